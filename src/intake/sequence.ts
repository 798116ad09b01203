/**
 * Where a new batch stands in its partner's sequence (PROTOCOL §3), decided in the
 * acceptance transaction: accepted (to be applied, in order), held, or stale. Pure, so
 * that every rule is tested without a database.
 *
 * The state is the accepted run: the sequence of the last accepted SNAPSHOT (`base`) and
 * the highest N such that every sequence from it to N was accepted (`runEnd`);
 * `expected` is runEnd + 1.
 */
/** What a batch is given at acceptance (PROTOCOL §3). */
export type Disposition = 'accepted' | 'held' | 'stale';

/** Why a held batch waits (PROTOCOL §3). */
export type HeldReason = 'sequence-gap' | 'no-snapshot-yet' | 'sequence-jump';

/** A partner's accepted run: the last accepted SNAPSHOT and the end of the run without a gap (null: nothing accepted yet). */
export interface PartnerSequenceState {
  snapshotBase: number | null;
  runEnd: number | null;
}

/** A batch of the partner that waits. */
export interface HeldBatch {
  id: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  heldReason: HeldReason;
}

/** How far above `expected` a batch may be before it waits for staff. */
export const MAX_JUMP = 1000;

export interface SequenceDecision {
  disposition: Disposition;
  heldReason?: HeldReason;
  state: PartnerSequenceState;
  /** Held batches the run now reaches: they are to be applied, in this order. */
  release: HeldBatch[];
  /** Held batches a SNAPSHOT made stale. */
  staled: HeldBatch[];
  /** Batches held before any SNAPSHOT that now wait for a gap, or for staff when far ahead. */
  relabel: { batch: HeldBatch; heldReason: HeldReason }[];
}

/**
 * Decides one batch. `held` are the partner's held batches in sequence order; `taken`
 * says whether its sequence was already accepted under another batch id.
 */
export function decideSequence(state: PartnerSequenceState, held: readonly HeldBatch[], batch: { sequence: number; kind: 'SNAPSHOT' | 'DELTA' }, taken: boolean): SequenceDecision {
  const unchanged = { state, release: [], staled: [], relabel: [] };
  if (taken) return { disposition: 'stale', ...unchanged };
  const { sequence, kind } = batch;

  if (state.runEnd === null) {
    // Nothing applied yet: the first batch ever applied must be a SNAPSHOT, of any sequence.
    if (kind === 'DELTA') return { disposition: 'held', heldReason: 'no-snapshot-yet', ...unchanged };
    return { disposition: 'accepted', ...startRun(sequence, held) };
  }
  if (sequence <= state.runEnd) return { disposition: 'stale', ...unchanged };
  const expected = state.runEnd + 1;
  if (sequence > expected + MAX_JUMP) return { disposition: 'held', heldReason: 'sequence-jump', ...unchanged };
  // A SNAPSHOT carries the whole state: it never waits for a gap.
  if (kind === 'SNAPSHOT') return { disposition: 'accepted', ...startRun(sequence, held) };
  if (sequence > expected) return { disposition: 'held', heldReason: 'sequence-gap', ...unchanged };
  const { runEnd, release } = extendRun(sequence, held);
  return { disposition: 'accepted', state: { snapshotBase: state.snapshotBase, runEnd }, release, staled: [], relabel: [] };
}

/**
 * Staff release a held batch (PROTOCOL §3): it applies now, as if the run had reached it.
 * A batch the run already passed is refused; releasing before the first SNAPSHOT too.
 */
export function releaseHeld(state: PartnerSequenceState, held: readonly HeldBatch[], batch: HeldBatch): { refused: string } | Omit<SequenceDecision, 'disposition'> {
  if (state.runEnd === null) return { refused: 'the first batch applied from a partner must be a SNAPSHOT; this one waits for it' };
  if (batch.sequence <= state.runEnd) return { refused: `the run is already at ${state.runEnd}: this batch would apply over newer data` };
  const others = held.filter((h) => h.id !== batch.id);
  if (batch.kind === 'SNAPSHOT') return startRun(batch.sequence, others);
  // The run jumps to this batch: held batches it passes can no longer apply.
  const { runEnd, release } = extendRun(batch.sequence, others);
  return { state: { snapshotBase: state.snapshotBase, runEnd }, release, staled: others.filter((h) => h.sequence < batch.sequence), relabel: [] };
}

/** A SNAPSHOT at `sequence`: every held batch below it is stale, held DELTAs right above it follow it. */
function startRun(sequence: number, held: readonly HeldBatch[]): Omit<SequenceDecision, 'disposition'> {
  const staled = held.filter((h) => h.sequence < sequence);
  const { runEnd, release } = extendRun(sequence, held);
  // What waited for a first SNAPSHOT now waits like any batch after it: for the gap, or for staff.
  const released = new Set(release.map((h) => h.id));
  const relabel = held
    .filter((h) => h.heldReason === 'no-snapshot-yet' && h.sequence > sequence && !released.has(h.id))
    .map((batch) => ({ batch, heldReason: (batch.sequence > runEnd + 1 + MAX_JUMP ? 'sequence-jump' : 'sequence-gap') as HeldReason }));
  return { state: { snapshotBase: sequence, runEnd }, release, staled, relabel };
}

/** The run grows through held DELTAs that follow without a gap (batches held for a jump wait for staff). */
function extendRun(from: number, held: readonly HeldBatch[]): { runEnd: number; release: HeldBatch[] } {
  const waiting = new Map(held.filter((h) => h.heldReason !== 'sequence-jump' && h.kind === 'DELTA').map((h) => [h.sequence, h]));
  const release: HeldBatch[] = [];
  let runEnd = from;
  for (let next = waiting.get(runEnd + 1); next; next = waiting.get(runEnd + 1)) {
    release.push(next);
    runEnd = next.sequence;
  }
  return { runEnd, release };
}
