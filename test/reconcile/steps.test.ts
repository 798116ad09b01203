import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runToEnd, sortSteps } from '../../src/reconcile/steps.ts';

describe('sortSteps', () => {
  it('sorts as Array.prototype.sort does, stably, whatever the input', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.string({ maxLength: 3 }), at: fc.nat() }), { maxLength: 3000 }), (items) => {
        const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
        expect(runToEnd(sortSteps(items, byKey))).toEqual([...items].sort(byKey));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the event loop a chance within a long sort, and leaves its input as it was', () => {
    const items = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
    const input = [...items];
    const steps = sortSteps(items, (a, b) => a - b);
    let yields = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) yields++;
    expect(yields).toBeGreaterThan(10);
    expect(step.value).toEqual([...items].sort((a, b) => a - b));
    expect(items).toEqual(input);
  });
});
