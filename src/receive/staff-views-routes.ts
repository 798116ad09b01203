/**
 * What staff read (roles reviewer and admin): partners and their state, exchanges with
 * their raw documents, recognitions with the rule that decided each, discrepancies with
 * their evidence, and the audit log. Every list is paged (paging.ts) and filterable.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { recognitionRule } from '../reconcile/recognition.ts';
import type { Registry } from '../registry/registry.ts';
import { discrepancyEvidence } from '../staff/discrepancy-evidence.ts';
import { rolesFor, type StaffAuth } from '../staff/staff-auth.ts';
import { listAudit } from '../store/audit-log.ts';
import type { Db } from '../store/db.ts';
import { deliveryHealth } from '../store/deliveries.ts';
import { discrepancyById, listDiscrepancies, openCountsByPartner } from '../store/discrepancies.ts';
import { exchangeDocument, inboundState, keyUse, searchExchanges, staffExchangeView } from '../store/exchanges.ts';
import { searchRecognitions } from '../store/operators.ts';
import { staffCaller } from './callers.ts';
import { nextCursor, PageQuery, readCursor, readQuery, rejectionsPage } from './paging.ts';
import { typedText } from './typed-text.ts';
import { sendProblem } from './problem.ts';

export interface StaffViewDeps {
  db: Db;
  registry: Registry;
  staff: StaffAuth;
}

const text = typedText(200);
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).describe('RFC 3339 date-time, or a date (00:00 UTC)');

export const DiscrepancyQuery = PageQuery.extend({
  state: z.enum(['open', 'accepted', 'overridden', 'dismissed', 'all']).default('open'),
  partner: text.optional(),
  kind: text.optional(),
  mid: text.optional(),
});
export const PartnerQuery = PageQuery.extend({ status: z.enum(['active', 'suspended']).optional() });
export const ExchangeQuery = PageQuery.extend({
  partner: text.optional(),
  state: z.enum(['received', 'processing', 'applied', 'held', 'stale', 'failed']).optional(),
  from: instant.optional().describe('received at or after'),
  to: instant.optional().describe('received before'),
});
export const RecognitionQuery = PageQuery.extend({
  partner: text.optional(),
  state: z.enum(['recognized', 'suspended', 'revoked', 'withdrawn', 'out-of-scope']).optional(),
  mid: text.optional(),
  operator: text.optional().describe('a record key, or an identifier the operator is known by'),
});
export const AuditQuery = PageQuery.extend({ actor: text.optional(), action: text.optional(), subject: text.optional() });

const IdCursor = z.number().int().min(0);
const ExchangeCursor = z.tuple([z.iso.datetime(), z.uuid()]);
const OperatorCursor = z.tuple([z.string(), z.string()]);
const NameCursor = z.string();

export function staffViewsRouter(deps: StaffViewDeps): Router {
  const router = Router();
  const reader = (req: Request) => staffCaller(deps.staff, req.get('Authorization'), rolesFor.read);

  router.get('/v1/discrepancies', async (req, res) => {
    await reader(req);
    const query = readQuery(req.query, DiscrepancyQuery);
    const discrepancies = await listDiscrepancies(deps.db, { ...query, after: readCursor(query.cursor, IdCursor) ?? 0 });
    res.json({ discrepancies, next: nextCursor(discrepancies, query.limit, (d) => d.id) });
  });

  router.get('/v1/discrepancies/:id', async (req, res) => {
    await reader(req);
    const id = Number(req.params['id']);
    const found = Number.isSafeInteger(id) ? await discrepancyById(deps.db, id) : undefined;
    if (!found) return sendProblem(res, 'not-found', 'no such discrepancy');
    res.json({ ...found, evidence: await discrepancyEvidence(deps.db, deps.registry, found) });
  });

  /** The registry's partners with their state in and out; the registry is small, so it is paged in memory. */
  router.get('/v1/partners', async (req, res) => {
    await reader(req);
    const query = readQuery(req.query, PartnerQuery);
    const after = readCursor(query.cursor, NameCursor);
    const page = deps.registry
      .partners()
      .filter((p) => (query.status === undefined || p.status === query.status) && (after === undefined || p.id > after))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, query.limit);
    const [inbound, outbound, keys, open] = await Promise.all([inboundState(deps.db), deliveryHealth(deps.db), keyUse(deps.db), openCountsByPartner(deps.db)]);
    const partners = page.map((p) => {
        // An inline JWKS lists every registered key; a jwksUri partner's keys are known by their use.
        const used = keys.filter((u) => u.partner === p.id);
        const registered = p.keys.jwks?.keys.map((k) => ({ kid: k.kid, alg: k.alg })) ?? used.map((u) => ({ kid: u.kid, alg: undefined }));
        const health = outbound.find((h) => h.partner === p.id);
        return {
          id: p.id,
          name: p.name,
          programme: p.programme,
          format: p.format,
          status: p.status,
          inbound: inbound.get(p.id) ?? { lastSequence: null, snapshotBase: null, heldBatches: 0, lastReceivedAt: null },
          outbound:
            p.delivery === undefined
              ? null
              : { lastSequence: health?.lastSequence ?? 0, lastDelivered: health?.lastDelivered ?? null, pending: health?.pending ?? 0, held: health?.held ?? 0, deadLetters: health?.deadLetters ?? [], breakerOpenUntil: health?.breakerOpenUntil ?? null },
          keys: registered.map((k) => {
            const use = used.find((u) => u.kid === k.kid);
            return { kid: k.kid, alg: k.alg ?? null, firstUsedAt: use?.firstUsedAt ?? null, lastUsedAt: use?.lastUsedAt ?? null };
          }),
          openDiscrepancies: open.get(p.id) ?? 0,
        };
    });
    res.json({ partners, next: nextCursor(partners, query.limit, (p) => p.id) });
  });

  router.get('/v1/exchanges', async (req, res) => {
    await reader(req);
    const query = readQuery(req.query, ExchangeQuery);
    const before = readCursor(query.cursor, ExchangeCursor);
    const exchanges = await searchExchanges(deps.db, {
      partner: query.partner,
      state: query.state,
      from: query.from === undefined ? undefined : new Date(query.from),
      to: query.to === undefined ? undefined : new Date(query.to),
      before: before && { receivedAt: new Date(before[0]), id: before[1] },
      limit: query.limit,
    });
    res.json({ exchanges, next: nextCursor(exchanges, query.limit, (e) => [e.receivedAt.toISOString(), e.exchangeId]) });
  });

  /** With a staff bearer token; a partner's signed read-back of its own exchange is in exchanges-routes.ts. */
  router.get('/v1/exchanges/:exchangeId', async (req, res) => {
    await reader(req);
    const view = await staffExchangeView(deps.db, String(req.params['exchangeId']));
    if (!view) return sendProblem(res, 'not-found', 'no such exchange');
    // Paged as the partner's read-back is (exchanges-routes.ts): one query, one answer shape.
    res.json({ ...view, ...rejectionsPage(req.query, view.rejections, view.rejectionCount) });
  });

  router.get('/v1/exchanges/:exchangeId/document', async (req, res) => {
    await reader(req);
    const document = await exchangeDocument(deps.db, String(req.params['exchangeId']));
    if (!document) return sendProblem(res, 'not-found', 'no such exchange');
    if (document.body === null) return sendProblem(res, 'not-found', `the raw document was removed by retention on ${document.removedAt?.toISOString() ?? 'an earlier day'}; its digest, signature header and receipt are kept`);
    // As received, never rendered: a download, not a page of this origin.
    res.setHeader('Content-Disposition', `attachment; filename="exchange-${String(req.params['exchangeId'])}"`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type(document.contentType).send(document.body);
  });

  router.get('/v1/recognitions', async (req, res) => {
    await reader(req);
    const query = readQuery(req.query, RecognitionQuery);
    const after = readCursor(query.cursor, OperatorCursor);
    const rows = await searchRecognitions(deps.db, { ...query, after: after && { partner: after[0], key: after[1] } });
    const recognitions = rows.map(({ held, batch }) => ({
      partner: held.partner,
      key: held.key,
      name: held.record.name.legal,
      state: held.recognition.state,
      since: held.recognition.since,
      rule: recognitionRule(held, deps.registry.partner(held.partner)),
      batch,
      benefits: held.benefits,
      mids: held.currentMids,
    }));
    res.json({ recognitions, next: nextCursor(recognitions, query.limit, (r) => [r.partner, r.key]) });
  });

  router.get('/v1/audit', async (req, res) => {
    await reader(req);
    const query = readQuery(req.query, AuditQuery);
    const entries = await listAudit(deps.db, { ...query, before: readCursor(query.cursor, IdCursor) });
    res.json({ entries, next: nextCursor(entries, query.limit, (e) => e.id) });
  });

  return router;
}
