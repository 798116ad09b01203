/**
 * `POST /v1/exchanges` and `GET /v1/exchanges/{id}` (PROTOCOL §3, §5): the HTTP edge
 * only. Verification is verify/, acceptance is intake/; this file reads the request in
 * the order §2 prescribes and turns each outcome into its answer.
 */
import { randomUUID } from 'node:crypto';
import { secondsOf } from '../clock.ts';
import type { Request, Response } from 'express';
import { Router } from 'express';
import { errorTable, GatewayError } from '../errors.ts';
import { StagedBody } from '../intake/stage-body.ts';
import { exchangeView } from '../store/exchanges.ts';
import { createSignatureCheck, verifyHead, verifyRequest, type VerifyContext } from '../verify/index.ts';
import type { EdgeContext } from './context.ts';
import { sendError, sendProblem } from './problem.ts';
import { rejectionsPage } from './paging.ts';
import { readBody } from './read-body.ts';
import { requestHead } from './request-head.ts';

export function exchangesRouter(ctx: EdgeContext): Router {
  const router = Router();
  const verifyContext = (): VerifyContext => ({
    gatewayId: ctx.gatewayId,
    partners: ctx.partners,
    nowSeconds: secondsOf(ctx.clock),
    iatSkewSeconds: ctx.settings.iatSkewSeconds,
    expectedMediaType: ctx.mediaTypeOf,
  });

  /** A refusal before the sender is authenticated: counted against the client address. */
  async function refuse(req: Request, res: Response, refusal: GatewayError): Promise<void> {
    ctx.metrics.refusals.inc({ slug: errorTable[refusal.code].slug ?? refusal.code });
    await ctx.limits.hit('preauth-failures', req.ip ?? 'unknown', ctx.settings.preauthFailuresPerMinute);
    sendError(res, refusal);
  }

  /** 429 before any check for an address that caused too many refusals this minute. */
  async function tooManyRefusals(req: Request, res: Response): Promise<boolean> {
    const verdict = await ctx.limits.check('preauth-failures', req.ip ?? 'unknown', ctx.settings.preauthFailuresPerMinute);
    if (verdict.allowed) return false;
    sendProblem(res, 'rate-limited', 'too many refused requests from this address; try again later', { retryAfterSeconds: verdict.retryAfterSeconds });
    return true;
  }

  router.post('/v1/exchanges', async (req, res) => {
    const receivedAt = new Date(ctx.clock());
    if (await tooManyRefusals(req, res)) return;
    const verdict = await verifyHead(requestHead(req, ctx.basePath, true), verifyContext());
    if (!verdict.ok) return refuse(req, res, new GatewayError(verdict.slug, verdict.detail));
    const { partner } = verdict;

    const declared = Number(req.get('Content-Length') ?? NaN);
    if (declared > partner.limits.maxBodyBytes) {
      res.setHeader('Connection', 'close');
      return refuse(req, res, new GatewayError('payload-too-large', `the body is larger than this partner's limit of ${partner.limits.maxBodyBytes} bytes`));
    }
    const check = createSignatureCheck(verdict);
    // The document is read as it arrives; what was read counts only once the signature
    // verifies. A large body is also stored as it arrives, under the id its exchange will
    // have; unless that exchange is accepted, what was stored is removed again.
    const reading = ctx.readDocument(partner);
    const staged = new StagedBody(ctx.db, randomUUID());
    let accepted = false;
    try {
      try {
        await readBody(req, {
          limit: partner.limits.maxBodyBytes,
          budget: ctx.budget,
          timeoutMs: ctx.settings.bodyTimeoutMs,
          onChunk: (c) => {
            check.update(c);
            reading.write(c);
            staged.write(c);
          },
        });
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        res.setHeader('Connection', 'close');
        // Busy is the gateway's state, not the sender's fault: not counted against its address.
        if (error.code === 'busy') return sendError(res, error);
        return await refuse(req, res, error);
      }
      if (!check.verify()) return await refuse(req, res, new GatewayError('signature-invalid', 'the signature does not verify over this body'));
      if (partner.status === 'suspended') return sendProblem(res, 'partner-suspended', 'this partner is suspended in the registry');

      const limit = await ctx.limits.hit('partner', partner.id, partner.limits.requestsPerMinute);
      if (!limit.allowed) return sendProblem(res, 'rate-limited', `more than ${partner.limits.requestsPerMinute} requests this minute`, { retryAfterSeconds: limit.retryAfterSeconds });

      const { storedPieces, rest } = await staged.settle();
      const document = { partner, requestJti: verdict.header.jti, signingKid: verdict.header.kid, read: reading.finish(), digest: reading.digest(), signatureHeader: req.get('JWS-Signature')!, contentType: req.get('Content-Type')!, receivedAt };
      const outcome = await ctx.accept({ ...document, exchangeId: staged.exchangeId, storedPieces, body: rest });
      ctx.metrics.exchanges.inc({ partner: partner.id, outcome: outcome.outcome === 'accepted' ? outcome.disposition : outcome.outcome });
      switch (outcome.outcome) {
        case 'accepted':
          accepted = true;
          ctx.accepted();
          res.status(202).location(`${ctx.basePath}/v1/exchanges/${outcome.exchangeId}`).json({ exchangeId: outcome.exchangeId, receipt: outcome.receipt });
          return;
        case 'repeat':
          res.status(200).json({ exchangeId: outcome.exchangeId, receipt: outcome.receipt });
          return;
        case 'conflict':
          return sendProblem(res, outcome.slug, outcome.detail);
        case 'invalid':
          return sendError(res, outcome.error);
      }
    } finally {
      // After the answer, not before it: while the store is away, the clean-up would hold a 503 back.
      if (!accepted) void staged.discard();
    }
  });

  router.get('/v1/exchanges/:exchangeId', async (req, res, next) => {
    // Staff read exchanges with their bearer token (staff-views-routes.ts); partners sign.
    if (req.get('JWS-Signature') === undefined && req.get('Authorization') !== undefined) return next('route');
    if (await tooManyRefusals(req, res)) return;
    const verdict = await verifyRequest(requestHead(req, ctx.basePath, false), new Uint8Array(0), verifyContext());
    if (!verdict.ok) {
      if (verdict.slug === 'partner-suspended') return sendProblem(res, 'partner-suspended', verdict.detail);
      return refuse(req, res, new GatewayError(verdict.slug, verdict.detail));
    }
    const limit = await ctx.limits.hit('partner', verdict.partner.id, verdict.partner.limits.requestsPerMinute);
    if (!limit.allowed) return sendProblem(res, 'rate-limited', `more than ${verdict.partner.limits.requestsPerMinute} requests this minute`, { retryAfterSeconds: limit.retryAfterSeconds });
    const view = await exchangeView(ctx.db, String(req.params['exchangeId']), verdict.partner.id);
    // Another partner's exchange is not found: its existence is not revealed.
    if (!view) return sendProblem(res, 'not-found', 'no such exchange');
    // The page after the look-up: a bad cursor for an exchange that does not exist is still a 404.
    const page = rejectionsPage(req.query, view.rejections, view.rejectionCount);
    res.json({ exchangeId: view.id, batchId: view.batchId, sequence: view.sequence, kind: view.kind, state: view.state, counts: view.counts, ...page });
  });

  return router;
}
