/**
 * Long work in a job gives the event loop a turn every few milliseconds. `mragw start`
 * answers the API in the same process as its workers, and BullMQ renews a job's lock
 * from the same loop: neither may wait long behind the apply of a large SNAPSHOT
 * (issue 10: no block over 100 ms).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Work between two turns of the event loop. Short enough for the API, long enough that the turns cost little. */
const SLICE_MS = 8;

export class Pace {
  private since = performance.now();

  /** Whether this slice of work is used up (cheap enough to ask after every record). */
  due(): boolean {
    return performance.now() - this.since >= SLICE_MS;
  }

  /** Lets everything else waiting on the event loop run, then starts a new slice. */
  async breathe(): Promise<void> {
    await nextTurn();
    this.since = performance.now();
  }

  /** Runs synchronous work written as a generator (one `yield` per unit of work), breathing as slices run out. */
  async run<T>(steps: Generator<unknown, T>): Promise<T> {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (this.due()) await this.breathe();
    }
  }
}
