/**
 * The staff API (CBP staff, bearer tokens): discrepancies and their decisions, held
 * batches released, the benefit change feed (also for `feed-reader` credentials), the
 * registry as read-only, and the C-TPAT member import. Every decision records who, when
 * and why.
 */
import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import express from 'express';
import { z } from 'zod';
import { todayOf, type Clock } from '../clock.ts';
import { issuesOf } from '../errors.ts';
import { staffCaller, type StaffCaller } from './callers.ts';
import { typedText } from './typed-text.ts';
import { sendProblem } from './problem.ts';
import type { Registry } from '../registry/registry.ts';
import { recordAudit } from '../store/audit-log.ts';
import { feedAfter } from '../store/benefit-feed.ts';
import { recentCtpatImports } from '../store/ctpat-imports.ts';
import type { Db } from '../store/db.ts';
import { decideDiscrepancy, discrepancyExists } from '../store/discrepancies.ts';
import { importCtpatMembers } from '../staff/ctpat-import.ts';
import { queueOutbound } from '../staff/outbound.ts';
import type { Format } from '../translate/format.ts';
import { releaseHeldBatch } from '../staff/release.ts';
import { rolesFor, type StaffAuth, type StaffRole } from '../staff/staff-auth.ts';

export interface StaffRouteDeps {
  db: Db;
  registry: Registry;
  formats: ReadonlyMap<string, Format>;
  /** Verifies bearer tokens (the edge's callers.ts reads them from the request). */
  staff: StaffAuth;
  /** Called after a release, so that the outbox is relayed at once. */
  queued(): void;
  /** The gateway's clock: the import date of C-TPAT members. */
  clock: Clock;
}

/** The body of a discrepancy decision. */
export const Decision = z.strictObject({ decision: z.enum(['accepted', 'overridden', 'dismissed']), reason: typedText(2000) });
/** `limit` of the C-TPAT import list (default 20). */
export const ImportsLimit = z.coerce.number().int().min(1).max(100);
/** The benefit feed's query: changes after id `after`, at most `limit`. */
export const FeedQuery = z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) });
/** The body of a release: why, optionally. */
export const ReleaseBody = z.strictObject({ reason: typedText(2000).optional() });

export function staffRouter(deps: StaffRouteDeps): Router {
  const router = Router();

  /** The caller, if it holds one of `roles`; otherwise a GatewayError, answered by the edge's error handler. */
  const caller = (req: Request, roles: readonly StaffRole[]): Promise<StaffCaller> => staffCaller(deps.staff, req.get('Authorization'), roles);

  /** Authenticates before any body is read: an unauthenticated caller never gets a body buffered. */
  const only = (roles: readonly StaffRole[]) => async (req: Request, res: Response, next: NextFunction) => {
    res.locals['staff'] = await caller(req, roles);
    next();
  };

  router.post('/v1/discrepancies/:id/decision', only(rolesFor.decide), express.json({ limit: '16kb' }), async (req, res) => {
    const who = res.locals['staff'] as StaffCaller;
    const body = Decision.safeParse(req.body);
    if (!body.success) return sendProblem(res, 'bad-request', 'the body must be {"decision": "accepted" | "overridden" | "dismissed", "reason": "…"}', { issues: issuesOf(body.error) });
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

  /** The body may say why (`{"reason": "…"}`, kept in the audit log); an empty body is a release without a reason. */
  router.post('/v1/exchanges/:exchangeId/release', only(rolesFor.administer), express.json({ limit: '16kb' }), async (req, res) => {
    const who = res.locals['staff'] as StaffCaller;
    const body = ReleaseBody.safeParse(req.body ?? {});
    if (!body.success) return sendProblem(res, 'bad-request', 'the body, when sent, must be {"reason": "…"}', { issues: issuesOf(body.error) });
    const outcome = await releaseHeldBatch(deps.db, String(req.params['exchangeId']), who.subject, body.data.reason);
    if (outcome.outcome === 'not-found') return sendProblem(res, 'not-found', 'no such exchange');
    if (outcome.outcome === 'refused') return sendProblem(res, 'conflict', outcome.detail);
    deps.queued();
    res.json({ exchangeId: req.params['exchangeId'], state: 'received', releasedBy: who.subject });
  });

  router.get('/v1/benefits/changes', async (req, res) => {
    await caller(req, rolesFor.readFeed);
    const page = FeedQuery.safeParse(req.query);
    if (!page.success) return sendProblem(res, 'bad-request', 'after and limit must be whole numbers (limit at most 1000)', { issues: issuesOf(page.error) });
    const changes = await feedAfter(deps.db, page.data.after, page.data.limit);
    res.json({ changes, next: changes.at(-1)?.id ?? page.data.after });
  });

  router.get('/v1/registry/partners', async (req, res) => {
    await caller(req, rolesFor.read);
    res.json({ partners: deps.registry.partners() });
  });

  router.post('/v1/ctpat/members', only(rolesFor.administer), express.raw({ type: () => true, limit: '256mb' }), async (req, res) => {
    const who = res.locals['staff'] as StaffCaller;
    // A document fault is a GatewayError: the edge's error handler answers it as a 422 with its place.
    const imported = await importCtpatMembers(deps.db, deps.formats.get('ctpat')!, req.body as Buffer, who.subject, todayOf(deps.clock));
    // An import's documents go out at once: each delivery partner's next document is queued now.
    const outbound = await deps.db.transaction((tx) => queueOutbound(tx, deps.registry.partners(), `import-${randomUUID()}`));
    deps.queued();
    res.json({ ...imported, outbound });
  });

  /** The latest imports with their counts, newest first (the lists of each stay in its row). */
  router.get('/v1/ctpat/imports', async (req, res) => {
    await caller(req, rolesFor.read);
    const limit = ImportsLimit.safeParse(req.query['limit'] ?? '20');
    if (!limit.success) return sendProblem(res, 'bad-request', 'limit must be a whole number from 1 to 100', { issues: issuesOf(limit.error) });
    res.json({ imports: await recentCtpatImports(deps.db, limit.data) });
  });

  return router;
}
