import { describe, expect, it } from 'vitest';
import { PartnerTurns } from '../../src/intake/partner-turns.ts';

/** A promise settled from outside, to hold a turn open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('partner turns', () => {
  it("runs one partner's work one at a time, in the order asked", async () => {
    const turns = new PartnerTurns();
    const first = gate();
    const log: string[] = [];
    const a = turns.take('EU', async () => {
      log.push('a starts');
      await first.opened;
      log.push('a ends');
    });
    const b = turns.take('EU', async () => void log.push('b runs'));
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['a starts']);
    first.open();
    await Promise.all([a, b]);
    expect(log).toEqual(['a starts', 'a ends', 'b runs']);
  });

  it('lets other partners run meanwhile', async () => {
    const turns = new PartnerTurns();
    const held = gate();
    const eu = turns.take('EU', () => held.opened);
    await expect(turns.take('JP', async () => 'jp done')).resolves.toBe('jp done');
    held.open();
    await eu;
  });

  it('gives the next turn after a failed one, and the failure to its own caller only', async () => {
    const turns = new PartnerTurns();
    const failed = turns.take('EU', async () => {
      throw new Error('commit refused');
    });
    const next = turns.take('EU', async () => 'accepted');
    await expect(failed).rejects.toThrow('commit refused');
    await expect(next).resolves.toBe('accepted');
  });
});
