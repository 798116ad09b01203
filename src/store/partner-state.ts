/** Partner state: each partner's accepted sequence run (PROTOCOL §3), one row per partner. */
import type { PartnerSequenceState } from '../intake/sequence.ts';
import type { Queryable } from './db.ts';

/**
 * The partner's sequence state, its row locked until the transaction ends: every
 * acceptance for one partner is decided one at a time, concurrent duplicates included.
 */
export async function lockPartnerState(tx: Queryable, partner: string): Promise<PartnerSequenceState> {
  // The row exists after a partner's first acceptance: one round trip, the insert only the first time.
  const lock = () => tx.query<{ snapshot_base: number | null; run_end: number | null }>('select snapshot_base, run_end from partner_state where partner = $1 for update', [partner]);
  let { rows } = await lock();
  if (rows.length === 0) {
    await tx.query('insert into partner_state (partner) values ($1) on conflict (partner) do nothing', [partner]);
    ({ rows } = await lock());
  }
  const row = rows[0]!;
  return { snapshotBase: row.snapshot_base, runEnd: row.run_end };
}

/** Saves the partner's run as the sequence decision left it (its row locked by lockPartnerState). */
export async function savePartnerState(tx: Queryable, partner: string, state: PartnerSequenceState): Promise<void> {
  await tx.query('update partner_state set snapshot_base = $2, run_end = $3, updated_at = now() where partner = $1', [partner, state.snapshotBase, state.runEnd]);
}
