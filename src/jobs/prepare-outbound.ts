/**
 * The `prepare-outbound` job: the next document for one partner (PROTOCOL §7, FORMATS.md
 * "Outbound"). In one transaction under the partner's outbound lock it plans the
 * document (pure, deliver/plan-document.ts), numbers it with the next sequence, signs it
 * and stores it with its signature, records what the partner is now told, reports the
 * members its format cannot carry, and queues the delivery. A run killed half-way rolls
 * back whole and its sequence number is not used: sequences have no gaps, across
 * retries, restarts and several workers.
 */
import { randomUUID } from 'node:crypto';
import { todayOf, type Clock } from '../clock.ts';
import { planDocument } from '../deliver/plan-document.ts';
import { GatewayError } from '../errors.ts';
import { bodyDigest } from '../intake/receipt.ts';
import { deliverJob } from '../queue/jobs.ts';
import type { Partner } from '../registry/partner.ts';
import { signRequest, type SigningKey } from '../sign/request-signature.ts';
import { allCtpatMembers } from '../store/ctpat-members.ts';
import type { Db } from '../store/db.ts';
import { insertDelivery, lockOutboundState, saveOutboundState, saveSentMembers, sentMembers, skipDead } from '../store/deliveries.ts';
import { openDiscrepancies } from '../store/discrepancies.ts';
import { addToOutbox } from '../store/outbox.ts';
import type { Format } from '../translate/format.ts';

export interface PrepareDeps {
  db: Db;
  formats: ReadonlyMap<string, Format>;
  partner(id: string): Partner | undefined;
  gatewayId: string;
  clock: Clock;
  /** The gateway's key that signs now (deliver/gateway-signing-key.ts). */
  signingKey(): SigningKey;
}

export type PrepareOutcome = { prepared: true; deliveryId: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; records: number; unwritable: number } | { prepared: false; reason: 'nothing-changed' | 'no-delivery' | 'nothing-to-replace' };

/**
 * Prepares the partner's next document: a SNAPSHOT when asked or when none has gone out
 * yet, else a DELTA of what changed for it. `replaces` (a skip) reuses that dead
 * document's sequence for a fresh SNAPSHOT.
 */
export async function prepareOutbound(deps: PrepareDeps, partnerId: string, options: { snapshot?: boolean; replaces?: { id: string; sequence: number } } = {}): Promise<PrepareOutcome> {
  const partner = deps.partner(partnerId);
  if (!partner) throw new GatewayError('batch-inapplicable', `partner ${partnerId} is not in the registry`);
  if (!partner.delivery) return { prepared: false, reason: 'no-delivery' };
  const format = deps.formats.get(partner.format);
  if (!format) throw new GatewayError('batch-inapplicable', `format ${partner.format} is not loaded`);
  const url = new URL(partner.delivery.url);

  return deps.db.transaction(async (tx) => {
    const state = await lockOutboundState(tx, partner.id);
    // A skip: the dead letter gives up its sequence in the same transaction that stores its
    // replacement, so no later document can slip into the gap between the two.
    if (options.replaces && !(await skipDead(tx, options.replaces.id))) return { prepared: false, reason: 'nothing-to-replace' };
    const kind = options.snapshot || options.replaces || !state.snapshotSent ? 'SNAPSHOT' : 'DELTA';
    const sequence = options.replaces?.sequence ?? state.lastSequence + 1;
    const now = new Date(deps.clock());
    const batchId = `${deps.gatewayId}-${partner.id}-${String(sequence).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
    const plan = await planDocument(format, await allCtpatMembers(tx), await sentMembers(tx, partner.id), {
      gatewayId: deps.gatewayId,
      partnerId: partner.id,
      kind,
      sequence,
      batchId,
      asOf: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      today: todayOf(deps.clock),
      businessTypes: partner.mra?.outboundBusinessTypes,
    });
    const deliveryId = randomUUID();
    if (plan && plan.unwritable.length > 0) {
      // FORMATS.md: not sent, reported to staff with the field named, nothing invented.
      await openDiscrepancies(
        tx,
        plan.unwritable.map((u) => ({
          kind: 'outbound-unwritable',
          partner: partner.id,
          key: u.account,
          detail: { field: u.field, code: u.code, message: u.message, format: format.id },
          dedupeKey: `outbound-unwritable:${partner.id}:${u.account}:${u.field}`,
          exchangeId: deliveryId,
        })),
      );
    }
    if (!plan?.document) return { prepared: false, reason: 'nothing-changed' };

    const { body } = plan.document;
    const jti = randomUUID();
    const signatureHeader = signRequest({ key: deps.signingKey(), iss: deps.gatewayId, aud: partner.id, method: 'POST', target: `${url.pathname}${url.search}`, body, jti, iat: Math.floor(now.getTime() / 1000), contentType: format.mediaType });
    await insertDelivery(tx, {
      id: deliveryId,
      partner: partner.id,
      sequence,
      batchId,
      kind,
      jti,
      contentType: format.mediaType,
      body,
      digest: bodyDigest(body),
      signatureHeader,
      recordCount: plan.document.carried.length,
      members: plan.document.carried,
      replaces: options.replaces?.id,
    });
    await saveSentMembers(tx, partner.id, sequence, plan.document.carried, plan.omitted);
    await saveOutboundState(tx, partner.id, { lastSequence: Math.max(state.lastSequence, sequence), snapshotSent: true });
    await addToOutbox(tx, deliverJob(partner.id, deliveryId));
    return { prepared: true, deliveryId, sequence, kind, records: plan.document.carried.length, unwritable: plan.unwritable.length };
  });
}
