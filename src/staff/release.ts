/** Staff release of a held batch (PROTOCOL §3): it applies now, and the run moves past it. */
import { releaseHeld } from '../intake/sequence.ts';
import { applyJob } from '../queue/jobs.ts';
import { recordAudit } from '../store/audit-log.ts';
import type { Db } from '../store/db.ts';
import { exchangePartner, exchangeState, heldBatches, setExchangeState, setHeldReason } from '../store/exchanges.ts';
import { addToOutbox } from '../store/outbox.ts';
import { lockPartnerState, savePartnerState } from '../store/partner-state.ts';

export type ReleaseOutcome = { outcome: 'released' } | { outcome: 'not-found' } | { outcome: 'refused'; detail: string };

/** Releases exchange `id` if it is held for a gap or a jump: it and the held DELTAs that follow it are queued in order. */
export async function releaseHeldBatch(db: Db, id: string, actor: string, reason?: string): Promise<ReleaseOutcome> {
  const partner = await exchangePartner(db, id);
  if (!partner) return { outcome: 'not-found' };
  return db.transaction(async (tx) => {
    const state = await lockPartnerState(tx, partner);
    const held = await heldBatches(tx, partner);
    const batch = held.find((h) => h.id === id);
    if (!batch) return { outcome: 'refused', detail: `this exchange is ${await exchangeState(tx, id)}, not held` };
    const decision = releaseHeld(state, held, batch);
    if ('refused' in decision) return { outcome: 'refused', detail: decision.refused };
    await savePartnerState(tx, partner, decision.state);
    await setExchangeState(tx, decision.staled.map((h) => h.id), 'stale');
    for (const relabelled of decision.relabel) await setHeldReason(tx, relabelled.batch.id, relabelled.heldReason);
    const applied = [batch, ...decision.release];
    await setExchangeState(tx, applied.map((h) => h.id), 'received');
    for (const h of applied) await addToOutbox(tx, applyJob(partner, h.id, h.sequence));
    await recordAudit(tx, { actor, action: 'release-held-batch', subject: `exchange:${id}`, detail: { partner, sequence: batch.sequence, heldReason: batch.heldReason, alsoReleased: decision.release.map((h) => h.sequence), reason: reason ?? null } });
    return { outcome: 'released' };
  });
}
