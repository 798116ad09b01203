/**
 * The staff API (CBP staff, bearer tokens): discrepancies and their decisions, held
 * batches released, the benefit change feed (also for `feed-reader` credentials), the
 * registry as read-only, and the C-TPAT member import. Every decision records who, when
 * and why.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { DocumentInvalidError } from '../errors.ts';
import express from 'express';
import { z } from 'zod';
import { sendProblem } from '../receive/problem.ts';
import type { Registry } from '../registry/registry.ts';
import { recordAudit } from '../store/audit-log.ts';
import { feedAfter } from '../store/benefit-feed.ts';
import type { Db } from '../store/db.ts';
import { decideDiscrepancy, discrepancyExists, listDiscrepancies } from '../store/discrepancies.ts';
import { importCtpatMembers } from './ctpat-import.ts';
import type { Format } from '../translate/format.ts';
import { releaseHeldBatch } from './release.ts';
import { StaffAuthError, type StaffRole } from './staff-auth.ts';

export interface StaffCaller {
  subject: string;
  roles: readonly StaffRole[];
}

export interface StaffRouteDeps {
  db: Db;
  registry: Registry;
  formats: ReadonlyMap<string, Format>;
  /** Verifies the bearer token; throws with a safe message when it does not verify. */
  authenticate(authorization: string | undefined): Promise<StaffCaller>;
  /** Called after a release, so that the outbox is relayed at once. */
  queued(): void;
}

const Decision = z.strictObject({ decision: z.enum(['accepted', 'overridden', 'dismissed']), reason: z.string().min(1).max(2000) });
const StateFilter = z.enum(['open', 'accepted', 'overridden', 'dismissed', 'all']);
const Page = z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) });

export function staffRouter(deps: StaffRouteDeps): Router {
  const router = Router();

  /** The caller, if it holds one of `roles`; otherwise the answer is sent and undefined returned. */
  async function caller(req: Request, res: Response, roles: readonly StaffRole[]): Promise<StaffCaller | undefined> {
    let who: StaffCaller;
    try {
      who = await deps.authenticate(req.get('Authorization'));
    } catch (error) {
      const code = error instanceof StaffAuthError ? error.code : 'invalid';
      if (code === 'no-role') sendProblem(res, 'forbidden', error instanceof Error ? error.message : 'forbidden');
      else if (code === 'unavailable') sendProblem(res, 'unavailable', 'the staff identity provider cannot be reached', { retryAfterSeconds: 30 });
      else sendProblem(res, 'unauthorized', (error as Error).message, { challenge: 'Bearer' });
      return undefined;
    }
    if (!who.roles.some((r) => roles.includes(r))) {
      sendProblem(res, 'forbidden', `this needs the role ${roles.join(' or ')}`);
      return undefined;
    }
    return who;
  }

  router.get('/v1/discrepancies', async (req, res) => {
    if (!(await caller(req, res, ['staff']))) return;
    const page = Page.safeParse(req.query);
    const state = StateFilter.safeParse(typeof req.query['state'] === 'string' ? req.query['state'] : 'open');
    if (!page.success || !state.success) return sendProblem(res, 'bad-request', 'after and limit are whole numbers; state is open, accepted, overridden, dismissed or all');
    res.json({ discrepancies: await listDiscrepancies(deps.db, { ...page.data, state: state.data }) });
  });

  /** Authenticates before any body is read: an unauthenticated caller never gets a body buffered. */
  const only = (roles: readonly StaffRole[]) => async (req: Request, res: Response, next: NextFunction) => {
    const who = await caller(req, res, roles);
    if (!who) return;
    res.locals['staff'] = who;
    next();
  };

  router.post('/v1/discrepancies/:id/decision', only(['staff']), express.json({ limit: '16kb' }), async (req, res) => {
    const who = res.locals['staff'] as StaffCaller;
    const body = Decision.safeParse(req.body);
    if (!body.success) return sendProblem(res, 'bad-request', `the body must be {"decision": "accepted" | "overridden" | "dismissed", "reason": "…"}: ${body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const id = Number(req.params['id']);
    if (!Number.isSafeInteger(id)) return sendProblem(res, 'not-found', 'no such discrepancy');
    const updated = await deps.db.transaction(async (tx) => {
      if (!(await decideDiscrepancy(tx, id, { decision: body.data.decision, by: who.subject, reason: body.data.reason }))) return false;
      await recordAudit(tx, { actor: who.subject, action: `discrepancy-${body.data.decision}`, subject: `discrepancy:${id}`, detail: { reason: body.data.reason } });
      return true;
    });
    if (!updated) {
      return (await discrepancyExists(deps.db, id)) ? sendProblem(res, 'conflict', 'this discrepancy was already decided') : sendProblem(res, 'not-found', 'no such discrepancy');
    }
    res.json({ id, state: body.data.decision, decidedBy: who.subject });
  });

  router.post('/v1/exchanges/:exchangeId/release', async (req, res) => {
    const who = await caller(req, res, ['staff']);
    if (!who) return;
    const outcome = await releaseHeldBatch(deps.db, String(req.params['exchangeId']), who.subject);
    if (outcome.outcome === 'not-found') return sendProblem(res, 'not-found', 'no such exchange');
    if (outcome.outcome === 'refused') return sendProblem(res, 'conflict', outcome.detail);
    deps.queued();
    res.json({ exchangeId: req.params['exchangeId'], state: 'received', releasedBy: who.subject });
  });

  router.get('/v1/benefits/changes', async (req, res) => {
    if (!(await caller(req, res, ['staff', 'feed-reader']))) return;
    const page = Page.safeParse(req.query);
    if (!page.success) return sendProblem(res, 'bad-request', 'after and limit must be whole numbers (limit at most 1000)');
    const changes = await feedAfter(deps.db, page.data.after, page.data.limit);
    res.json({ changes, next: changes.at(-1)?.id ?? page.data.after });
  });

  router.get('/v1/registry/partners', async (req, res) => {
    if (!(await caller(req, res, ['staff']))) return;
    res.json({ partners: deps.registry.partners() });
  });

  router.post('/v1/ctpat/members', only(['staff']), express.raw({ type: () => true, limit: '256mb' }), async (req, res) => {
    const who = res.locals['staff'] as StaffCaller;
    try {
      res.json(await importCtpatMembers(deps.db, deps.formats.get('ctpat')!, req.body as Buffer, who.subject));
    } catch (error) {
      if (!(error instanceof DocumentInvalidError)) throw error;
      sendProblem(res, 'document-invalid', error.message, { extensions: { errors: [{ index: null, key: null, pointer: error.place, code: 'document-invalid', message: error.message }], errorCount: 1, truncated: false } });
    }
  });

  return router;
}
