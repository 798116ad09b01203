/** PROTOCOL §3 "Sequence", rule by rule. */
import { describe, expect, it } from 'vitest';
import { decideSequence, MAX_JUMP, releaseHeld } from '../../src/intake/sequence.ts';
import type { HeldBatch } from '../../src/intake/sequence.ts';

const fresh = { snapshotBase: null, runEnd: null };
const after = (base: number, runEnd: number) => ({ snapshotBase: base, runEnd });
const held = (sequence: number, heldReason: HeldBatch['heldReason'] = 'sequence-gap', kind: HeldBatch['kind'] = 'DELTA'): HeldBatch => ({ id: `id-${sequence}`, sequence, kind, heldReason });

describe('sequence decisions', () => {
  it('the first batch ever applied must be a SNAPSHOT, of any sequence', () => {
    expect(decideSequence(fresh, [], { sequence: 4711, kind: 'SNAPSHOT' }, false)).toMatchObject({ disposition: 'accepted', state: after(4711, 4711) });
  });

  it('a DELTA before any SNAPSHOT is held (no-snapshot-yet)', () => {
    expect(decideSequence(fresh, [], { sequence: 1, kind: 'DELTA' }, false)).toMatchObject({ disposition: 'held', heldReason: 'no-snapshot-yet', state: fresh });
  });

  it('the first SNAPSHOT releases held DELTAs right after it and makes those below it stale', () => {
    const decision = decideSequence(fresh, [held(3, 'no-snapshot-yet'), held(6, 'no-snapshot-yet'), held(7, 'no-snapshot-yet'), held(9, 'no-snapshot-yet')], { sequence: 5, kind: 'SNAPSHOT' }, false);
    expect(decision.disposition).toBe('accepted');
    expect(decision.release.map((h) => h.sequence)).toEqual([6, 7]);
    expect(decision.staled.map((h) => h.sequence)).toEqual([3]);
    expect(decision.state).toEqual(after(5, 7));
  });

  it('the expected DELTA is accepted and extends the run', () => {
    expect(decideSequence(after(10, 12), [], { sequence: 13, kind: 'DELTA' }, false)).toMatchObject({ disposition: 'accepted', state: after(10, 13) });
  });

  it('a DELTA above expected is held (sequence-gap), and applies once the gap is filled', () => {
    const gap = decideSequence(after(10, 12), [], { sequence: 15, kind: 'DELTA' }, false);
    expect(gap).toMatchObject({ disposition: 'held', heldReason: 'sequence-gap', state: after(10, 12) });
    const fill = decideSequence(after(10, 12), [held(14), held(15)], { sequence: 13, kind: 'DELTA' }, false);
    expect(fill).toMatchObject({ disposition: 'accepted', state: after(10, 15) });
    expect(fill.release.map((h) => h.sequence)).toEqual([14, 15]);
  });

  it('a batch not above the run is stale, SNAPSHOT or DELTA', () => {
    expect(decideSequence(after(10, 12), [], { sequence: 12, kind: 'DELTA' }, false).disposition).toBe('stale');
    expect(decideSequence(after(10, 12), [], { sequence: 3, kind: 'SNAPSHOT' }, false).disposition).toBe('stale');
  });

  it('a sequence already accepted under another batch id is stale', () => {
    expect(decideSequence(after(10, 12), [held(15)], { sequence: 15, kind: 'DELTA' }, true)).toMatchObject({ disposition: 'stale', release: [], staled: [] });
  });

  it(`a batch more than ${MAX_JUMP} above expected is held for staff (sequence-jump), whatever its kind`, () => {
    for (const kind of ['SNAPSHOT', 'DELTA'] as const) {
      expect(decideSequence(after(10, 12), [], { sequence: 13 + MAX_JUMP + 1, kind }, false)).toMatchObject({ disposition: 'held', heldReason: 'sequence-jump' });
    }
    expect(decideSequence(after(10, 12), [], { sequence: 13 + MAX_JUMP, kind: 'SNAPSHOT' }, false).disposition).toBe('accepted');
  });

  it('a SNAPSHOT above the run never waits for a gap: it applies at once and makes held DELTAs below it stale', () => {
    const decision = decideSequence(after(10, 12), [held(14), held(16), held(21)], { sequence: 20, kind: 'SNAPSHOT' }, false);
    expect(decision.disposition).toBe('accepted');
    expect(decision.staled.map((h) => h.sequence)).toEqual([14, 16]);
    expect(decision.release.map((h) => h.sequence)).toEqual([21]);
    expect(decision.state).toEqual(after(20, 21));
  });

  it('batches held for a jump wait for staff: a run reaching them does not release them', () => {
    const decision = decideSequence(after(10, 12), [held(14, 'sequence-jump')], { sequence: 13, kind: 'DELTA' }, false);
    expect(decision.release).toEqual([]);
    expect(decision.state).toEqual(after(10, 13));
  });
});

describe('staff releases', () => {
  it('a SNAPSHOT makes every held batch below it stale, those held for a jump too', () => {
    const decision = decideSequence(after(10, 12), [held(14, 'sequence-jump')], { sequence: 20, kind: 'SNAPSHOT' }, false);
    expect(decision.staled.map((h) => h.sequence)).toEqual([14]);
  });

  it('a released DELTA applies at once, and the held DELTAs right after it follow', () => {
    const decision = releaseHeld(after(10, 12), [held(15), held(16), held(18)], held(15));
    expect(decision).toMatchObject({ state: after(10, 16), release: [held(16)], staled: [] });
  });

  it('a released SNAPSHOT starts a new run: held batches below it are stale', () => {
    const decision = releaseHeld(after(10, 12), [held(14), held(2000, 'sequence-jump', 'SNAPSHOT'), held(2001)], held(2000, 'sequence-jump', 'SNAPSHOT'));
    expect(decision).toMatchObject({ state: after(2000, 2001), release: [held(2001)], staled: [held(14)] });
  });

  it('refuses a batch the run already passed, and any batch before the first SNAPSHOT', () => {
    expect(releaseHeld(after(10, 20), [held(15)], held(15))).toHaveProperty('refused');
    expect(releaseHeld(fresh, [held(3, 'no-snapshot-yet')], held(3, 'no-snapshot-yet'))).toHaveProperty('refused');
  });
});

describe('batches held before the first SNAPSHOT', () => {
  it('wait afterwards for their gap, or for staff when far ahead', () => {
    const decision = decideSequence(fresh, [held(7, 'no-snapshot-yet'), held(3000, 'no-snapshot-yet')], { sequence: 5, kind: 'SNAPSHOT' }, false);
    expect(decision.relabel).toEqual([
      { batch: held(7, 'no-snapshot-yet'), heldReason: 'sequence-gap' },
      { batch: held(3000, 'no-snapshot-yet'), heldReason: 'sequence-jump' },
    ]);
  });

  it('a released DELTA makes the held batches it jumps over stale', () => {
    const decision = releaseHeld(after(1, 3), [held(5), held(7)], held(7));
    expect(decision).toMatchObject({ state: after(1, 7), staled: [held(5)] });
  });
});
