/**
 * Reconciliation's long passes are generators with one `yield` per record, so that a job
 * can give the event loop a turn within a batch of 100,000 (jobs/pace.ts); still pure,
 * they never wait for anything. Run at once, as tests and small callers do, here.
 */
export function runToEnd<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `items` sorted by `compare`, stably, as a merge sort that yields every thousand or so
 * elements placed: sorting the outcomes of 100,000 records in one call held the event
 * loop for 64 ms.
 */
export function* sortSteps<T>(items: readonly T[], compare: (a: T, b: T) => number): Generator<void, T[]> {
  let from = items.slice();
  let to = new Array<T>(from.length);
  let placed = 0;
  for (let width = 1; width < from.length; width *= 2) {
    for (let lo = 0; lo < from.length; lo += 2 * width) {
      const mid = Math.min(lo + width, from.length);
      const hi = Math.min(lo + 2 * width, from.length);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        // Taking from the left run on a tie keeps equal items in their order.
        to[k] = i < mid && (j >= hi || compare(from[i]!, from[j]!) <= 0) ? from[i++]! : from[j++]!;
        if (++placed % 1024 === 0) yield;
      }
    }
    [from, to] = [to, from];
  }
  return from;
}
