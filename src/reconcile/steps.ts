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
