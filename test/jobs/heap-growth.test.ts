import { afterEach, describe, expect, it, vi } from 'vitest';

// The one thing this module does is set a V8 flag, which V8 does not let a program read back: the call is what is checked.
const setFlags = vi.hoisted(() => vi.fn<(flags: string) => void>());
vi.mock('node:v8', () => ({ setFlagsFromString: setFlags }));
const { tightenHeapDuringLargeApplies, withTightHeap } = await import('../../src/jobs/heap-growth.ts');

afterEach(() => {
  tightenHeapDuringLargeApplies(0);
  setFlags.mockClear();
});

describe('the heap held tight during large applies', () => {
  it('leaves V8 alone until a gateway process configures it', async () => {
    expect(await withTightHeap(async () => 'done')).toBe('done');
    expect(setFlags).not.toHaveBeenCalled();
  });

  it('tightens when the first large apply starts and restores V8 own growth when the last one ends, failed or not', async () => {
    tightenHeapDuringLargeApplies(50);
    let release!: () => void;
    const first = withTightHeap(() => new Promise<void>((resolve) => (release = resolve)));
    const second = withTightHeap(async () => {
      throw new Error('apply failed');
    });
    await expect(second).rejects.toThrow('apply failed');
    // The first still runs: the heap stays tight.
    expect(setFlags.mock.calls).toEqual([['--heap-growing-percent=50']]);
    release();
    await first;
    expect(setFlags.mock.calls).toEqual([['--heap-growing-percent=50'], ['--heap-growing-percent=0']]);
  });
});
