/**
 * Moves jobs from the store's outbox to BullMQ. The outbox row is marked as it is
 * claimed, and that mark is committed only after Redis took the job: a Redis outage leaves the
 * rows waiting, a crash between commit and enqueue leaves them to the next relay, and a
 * job added twice (a crash after enqueue, before commit) keeps its id, so BullMQ keeps it once.
 * A Redis that comes back empty (restarted without persistence, flushed) lost the jobs it
 * had taken: a key the relay keeps there tells, and the batches still to apply and the
 * documents still to deliver are relayed again.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { reopenUnapplied, reopenUndelivered, takePending } from '../store/outbox.ts';
import { applyJobId, deliverJobId } from './jobs.ts';

/** Completed jobs are kept this long, so that a job id relayed twice is still recognised. */
const KEEP_COMPLETED_S = 7 * 24 * 3600;

export class OutboxRelay {
  private readonly queues = new Map<string, Queue>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  relayed = 0;
  /**
   * Called once Redis was found to have lost its data (after the lost jobs were made
   * pending again): what else lived only in Redis, the workers' schedules, is set again.
   */
  onDataLost: () => void = () => {};

  constructor(
    private readonly db: Db,
    private readonly connection: Redis,
    private readonly log: Logger,
    private readonly prefix: string,
    private readonly intervalMs = 500,
  ) {}

  /** Relays up to `batch` pending jobs; returns how many. Throws if Redis or the store refuses. */
  async relayOnce(batch = 200): Promise<number> {
    return this.db.transaction(async (tx) => {
      // Marked in the same statement; the mark is committed only after Redis took the jobs.
      const jobs = await takePending(tx, batch);
      const byQueue = new Map<string, typeof jobs>();
      for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
      for (const [name, group] of byQueue) {
        // Bounded: an unreachable Redis must not hold the outbox rows locked.
        const bulk = group.map((j) => ({ name: j.job, data: j.payload, opts: { jobId: j.jobId, removeOnComplete: { age: KEEP_COMPLETED_S }, removeOnFail: false, attempts: 10, backoff: { type: 'exponential' as const, delay: 1_000 } } }));
        await withTimeout(this.queue(name).addBulk(bulk), 5_000);
      }
      this.relayed += jobs.length;
      return jobs.length;
    });
  }

  /**
   * Relays until nothing is pending: a relay that found less than a full batch found
   * everything committed before it looked (what commits later waits for the next kick or
   * tick, as it always did), so no further transaction is spent only to find the
   * outbox empty.
   */
  async drain(batch = 200): Promise<void> {
    await this.recoverLostJobs();
    while ((await this.relayOnce(batch)) === batch);
  }

  /**
   * If Redis no longer holds the relay's key, it lost everything it held, the jobs relayed
   * to it among them: the apply jobs of batches not yet applied, and the delivery jobs of
   * documents not yet delivered, are made pending again
   * (in the store first, so that a failure here leaves the key missing and is tried again).
   */
  private async recoverLostJobs(): Promise<void> {
    const key = `${this.prefix}:outbox-relay`;
    if ((await this.connection.exists(key)) === 1) return;
    const reopened = (await reopenUnapplied(this.db, applyJobId)) + (await reopenUndelivered(this.db, deliverJobId));
    await this.connection.set(key, new Date().toISOString());
    this.onDataLost();
    if (reopened > 0) this.log.warn({ reopened }, 'outbox relay: Redis lost its jobs; the batches still to apply and the documents still to deliver are queued again');
  }

  /** Polls the outbox, and relays at once after `kick()`. */
  start(): void {
    const tick = () => {
      this.kick();
      this.timer = setTimeout(tick, this.failures > 0 ? Math.min(this.intervalMs * 2 ** this.failures, 10_000) : this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** Relays now (coalesced with a relay already running). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => {
        if (this.failures > 0) this.log.info('outbox relay: the queue answers again');
        this.failures = 0;
      })
      .catch((error: unknown) => {
        if (this.failures++ === 0) this.log.warn({ err: (error as Error).message }, 'outbox relay: jobs wait in the store until the queue answers');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {}); // reported through relayOnce's rejection
      this.queues.set(name, queue);
    }
    return queue;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the queue did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
