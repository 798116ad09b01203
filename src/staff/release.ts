/** Staff release of a held batch (PROTOCOL §3): it applies now, and the run moves past it. */
import type { Db } from '../store/db.ts';
import { releaseHeld } from '../intake/sequence.ts';
import { heldBatches, isExchangeId, lockPartnerState, savePartnerState, setExchangeState, setHeldReason } from '../store/exchanges.ts';
import { addToOutbox } from '../store/outbox.ts';
import { applyJob } from '../queue/jobs.ts';

export type ReleaseOutcome = { outcome: 'released' } | { outcome: 'not-found' } | { outcome: 'refused'; detail: string };

/** Releases exchange `id` if it is held for a gap or a jump: it and the held DELTAs that follow it are queued in order. */
export async function releaseHeldBatch(db: Db, id: string, actor: string): Promise<ReleaseOutcome> {
  if (!isExchangeId(id)) return { outcome: 'not-found' };
  const { rows } = await db.query<{ partner: string }>('select partner from exchanges where id = $1', [id]);
  const partner = rows[0]?.partner;
  if (!partner) return { outcome: 'not-found' };
  return db.transaction(async (tx) => {
    const state = await lockPartnerState(tx, partner);
    const held = await heldBatches(tx, partner);
    const batch = held.find((h) => h.id === id);
    if (!batch) {
      const { rows: found } = await tx.query<{ state: string }>('select state from exchanges where id = $1', [id]);
      return { outcome: 'refused', detail: `this exchange is ${found[0]!.state}, not held` };
    }
    const decision = releaseHeld(state, held, batch);
    if ('refused' in decision) return { outcome: 'refused', detail: decision.refused };
    await savePartnerState(tx, partner, decision.state);
    await setExchangeState(tx, decision.staled.map((h) => h.id), 'stale');
    for (const relabelled of decision.relabel) await setHeldReason(tx, relabelled.batch.id, relabelled.heldReason);
    const applied = [batch, ...decision.release];
    await setExchangeState(tx, applied.map((h) => h.id), 'received');
    for (const h of applied) await addToOutbox(tx, applyJob(partner, h.id, h.sequence));
    await tx.query('insert into audit_log (actor, action, subject, detail) values ($1, $2, $3, $4)', [actor, 'release-held-batch', `exchange:${id}`, JSON.stringify({ partner, sequence: batch.sequence, heldReason: batch.heldReason, alsoReleased: decision.release.map((h) => h.sequence) })]);
    return { outcome: 'released' };
  });
}
