/**
 * How far V8 lets the heap grow past its live data before a full collection, tightened
 * while a large batch is applied. Left to itself on a large machine, V8 let the old
 * garbage of an apply of 100,000 records reach two to four times the live data before it
 * collected (issue 10, ingest-memory: 4.6-5.0 times the document, 2.8 at 50%). Held
 * tight all the time, it cost the small exchanges' latency instead: with a small live
 * heap, full collections came so often that their p50 went from 11 to 20 ms and their
 * p99 from 47 to 77 ms. So it is tight only while a large apply runs, and V8's own
 * heuristics the rest of the time. V8 reads the flag when it next sets its limit, after
 * each full collection.
 */
import { setFlagsFromString } from 'node:v8';

/** 0: V8's own heuristics throughout (tests, and code using the gateway as a library). */
let tightPercent = 0;
let largeApplies = 0;

/** Set once by a gateway process (`mragw start`, `serve`, `work`) from HEAP_GROWTH_PERCENT. */
export function tightenHeapDuringLargeApplies(percent: number): void {
  tightPercent = percent;
}

/** Runs `work` (a large apply) with the heap's growth held to the configured percent, restored when the last such run ends. */
export async function withTightHeap<T>(work: () => Promise<T>): Promise<T> {
  if (tightPercent === 0) return work();
  if (largeApplies++ === 0) setFlagsFromString(`--heap-growing-percent=${tightPercent}`);
  try {
    return await work();
  } finally {
    // 0 is V8's default: its own growing factor.
    if (--largeApplies === 0) setFlagsFromString('--heap-growing-percent=0');
  }
}
