/**
 * The staff API for outbound delivery (PROTOCOL §7): each partner's delivery health, a
 * document with its attempts, and the actions on a dead letter (replay, skip) or a
 * partner ("send a SNAPSHOT now"). Every action is in the audit log.
 */
import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import express from 'express';
import { z } from 'zod';
import { GatewayError, issuesOf } from '../errors.ts';
import { deliverJob } from '../queue/jobs.ts';
import type { Registry } from '../registry/registry.ts';
import { rolesFor, type StaffAuth } from '../staff/staff-auth.ts';
import { queueOutbound } from '../staff/outbound.ts';
import { recordAudit } from '../store/audit-log.ts';
import type { Db } from '../store/db.ts';
import { deliveriesOf, deliveryHealth, deliveryView, replayDead } from '../store/deliveries.ts';
import { addToOutbox } from '../store/outbox.ts';
import { staffCaller, type StaffCaller } from './callers.ts';
import { typedText } from './typed-text.ts';
import { sendProblem } from './problem.ts';

export interface DeliveryRouteDeps {
  db: Db;
  registry: Registry;
  staff: StaffAuth;
  /** The default SNAPSHOT schedule (OUTBOUND_SNAPSHOT_CRON). */
  snapshotCron: string;
  /** When the partner's next scheduled SNAPSHOT goes out (from the queue's scheduler). */
  nextSnapshotAt(partner: string): Promise<Date | undefined>;
  /** Called after an action queued work, so that the outbox is relayed at once. */
  queued(): void;
}

/** The body of a delivery action: why, for the audit log. */
export const Reason = z.strictObject({ reason: typedText(2000) });
/** The query of a partner's delivery list. */
export const DeliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export function deliveryRouter(deps: DeliveryRouteDeps): Router {
  const router = Router();
  const staffOnly = (req: Request) => staffCaller(deps.staff, req.get('Authorization'), rolesFor.read);
  /** An action's caller, authenticated before its body is read, and the reason it gives (for the audit log). */
  const action = [
    async (req: Request, res: Response, next: NextFunction) => {
      res.locals['staff'] = await staffCaller(deps.staff, req.get('Authorization'), rolesFor.administer);
      next();
    },
    express.json({ limit: '16kb' }),
  ];
  const actionOf = (req: Request, res: Response): { who: StaffCaller; reason: string; id: string } => {
    const body = Reason.safeParse(req.body);
    if (!body.success) throw new GatewayError('bad-request', 'the body must be {"reason": "…"}', { issues: issuesOf(body.error) });
    return { who: res.locals['staff'] as StaffCaller, reason: body.data.reason, id: String(req.params['id'] ?? req.params['partner']) };
  };
  const isId = (id: string) => z.uuid().safeParse(id).success;

  router.get('/v1/deliveries', async (req, res) => {
    await staffOnly(req);
    const health = new Map((await deliveryHealth(deps.db)).map((h) => [h.partner, h]));
    const partners = deps.registry.partners().filter((p) => p.delivery !== undefined);
    res.json({
      partners: await Promise.all(
        partners.map(async (p) => ({
          lastSequence: 0, lastDelivered: null, pending: 0, deadLetters: [], held: 0, breakerOpenUntil: null,
          ...health.get(p.id),
          partner: p.id,
          url: p.delivery!.url,
          snapshotSchedule: p.delivery!.snapshotCron ?? deps.snapshotCron,
          nextSnapshotAt: (await deps.nextSnapshotAt(p.id)) ?? null,
        })),
      ),
    });
  });

  router.get('/v1/partners/:partner/deliveries', async (req, res) => {
    await staffOnly(req);
    const page = DeliveriesQuery.safeParse(req.query);
    if (!page.success) return sendProblem(res, 'bad-request', 'limit must be a whole number from 1 to 1000', { issues: issuesOf(page.error) });
    const partner = String(req.params['partner']);
    // Only a partner of the registry has deliveries; anything else is not a resource (and never reaches the store).
    if (!deps.registry.partner(partner)) return sendProblem(res, 'not-found', 'no such partner');
    res.json({ deliveries: await deliveriesOf(deps.db, partner, page.data.limit) });
  });

  router.get('/v1/deliveries/:id', async (req, res) => {
    await staffOnly(req);
    const view = isId(String(req.params['id'])) ? await deliveryView(deps.db, String(req.params['id'])) : undefined;
    if (!view) return sendProblem(res, 'not-found', 'no such delivery');
    res.json(view);
  });

  /** The same document again (same bytes and jti). */
  router.post('/v1/deliveries/:id/replay', ...action, async (req, res) => {
    const { who, reason, id } = actionOf(req, res);
    if (!isId(id)) return sendProblem(res, 'not-found', 'no such delivery');
    const replayed = await deps.db.transaction(async (tx) => {
      const view = await deliveryView(tx, id);
      if (!view) return undefined;
      if (!(await replayDead(tx, id))) return false;
      await addToOutbox(tx, { ...deliverJob(view.partner, id), jobId: `deliver-${id}-replay-${randomUUID().slice(0, 8)}` });
      await recordAudit(tx, { actor: who.subject, action: 'delivery-replay', subject: `delivery:${id}`, detail: { partner: view.partner, sequence: view.sequence, reason } });
      return true;
    });
    if (replayed === undefined) return sendProblem(res, 'not-found', 'no such delivery');
    if (!replayed) return sendProblem(res, 'conflict', 'only a dead letter can be replayed');
    deps.queued();
    res.json({ id, state: 'pending', replayedBy: who.subject });
  });

  /** A fresh SNAPSHOT under the dead document's sequence (new batchId and jti): the partner never sees a gap. */
  router.post('/v1/deliveries/:id/skip', ...action, async (req, res) => {
    const { who, reason, id } = actionOf(req, res);
    if (!isId(id)) return sendProblem(res, 'not-found', 'no such delivery');
    const skipped = await deps.db.transaction(async (tx) => {
      const dead = await deliveryView(tx, id);
      if (!dead) return undefined;
      if (dead.state !== 'dead') return false;
      const partner = deps.registry.partner(dead.partner);
      if (!partner) return false;
      // The replacement is prepared by a job, which skips the dead letter in its own transaction.
      await queueOutbound(tx, [partner], `skip-${id}`, { replaces: { id, sequence: dead.sequence } });
      await recordAudit(tx, { actor: who.subject, action: 'delivery-skip', subject: `delivery:${id}`, detail: { partner: dead.partner, sequence: dead.sequence, reason } });
      return true;
    });
    if (skipped === undefined) return sendProblem(res, 'not-found', 'no such delivery');
    if (!skipped) return sendProblem(res, 'conflict', 'only a dead letter of a partner in the registry can be skipped');
    deps.queued();
    res.status(202).json({ id, replacement: 'SNAPSHOT queued', skippedBy: who.subject });
  });

  router.post('/v1/partners/:partner/snapshot', ...action, async (req, res) => {
    const { who, reason, id } = actionOf(req, res);
    const partner = deps.registry.partner(id);
    if (!partner?.delivery) return sendProblem(res, 'not-found', 'no partner of that id takes deliveries');
    await deps.db.transaction(async (tx) => {
      await queueOutbound(tx, [partner], `snapshot-${randomUUID()}`, { snapshot: true });
      await recordAudit(tx, { actor: who.subject, action: 'delivery-snapshot', subject: `partner:${partner.id}`, detail: { reason } });
    });
    deps.queued();
    res.status(202).json({ partner: partner.id, queued: 'SNAPSHOT', requestedBy: who.subject });
  });

  return router;
}
