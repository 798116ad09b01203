/** Staff release of a held batch (PROTOCOL §3): it applies now, and the run moves past it. */
import type { Db } from '../store/db.ts';
import { lockPartnerState, savePartnerState, setExchangeState } from '../store/exchanges.ts';
import { addToOutbox } from '../store/outbox.ts';
import { applyJob } from '../queue/jobs.ts';

export type ReleaseOutcome = { outcome: 'released' } | { outcome: 'not-found' } | { outcome: 'refused'; detail: string };

/** Releases exchange `id` if it is held for a gap or a jump; batches it skips become stale when they come. */
export async function releaseHeldBatch(db: Db, id: string, actor: string): Promise<ReleaseOutcome> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return { outcome: 'not-found' };
  const { rows } = await db.query<{ partner: string }>('select partner from exchanges where id = $1', [id]);
  const partner = rows[0]?.partner;
  if (!partner) return { outcome: 'not-found' };
  return db.transaction(async (tx) => {
    const state = await lockPartnerState(tx, partner);
    const { rows: found } = await tx.query<{ sequence: number; kind: 'SNAPSHOT' | 'DELTA'; state: string; held_reason: string | null }>('select sequence, kind, state, held_reason from exchanges where id = $1 for update', [id]);
    const exchange = found[0]!;
    if (exchange.state !== 'held') return { outcome: 'refused', detail: `this exchange is ${exchange.state}, not held` };
    if (exchange.held_reason === 'no-snapshot-yet' || state.runEnd === null) return { outcome: 'refused', detail: 'the first batch applied from a partner must be a SNAPSHOT; this one waits for it' };
    await setExchangeState(tx, [id], 'received');
    const snapshot = exchange.kind === 'SNAPSHOT';
    await savePartnerState(tx, partner, { snapshotBase: snapshot ? exchange.sequence : state.snapshotBase, runEnd: Math.max(state.runEnd, exchange.sequence) });
    await addToOutbox(tx, applyJob(partner, id, exchange.sequence));
    await tx.query('insert into audit_log (actor, action, subject, detail) values ($1, $2, $3, $4)', [actor, 'release-held-batch', `exchange:${id}`, JSON.stringify({ partner, sequence: exchange.sequence, heldReason: exchange.held_reason })]);
    return { outcome: 'released' };
  });
}
