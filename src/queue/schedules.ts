/**
 * What BullMQ alone knows, read for staff and metrics (when a scheduler next runs, how
 * many jobs each queue holds), and the retention job's daily scheduler.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { outboundQueue, RETENTION_SCHEDULER_ID, type JobName, type RetentionPayload } from './jobs.ts';

/** The time of the partner's next scheduled SNAPSHOT, or undefined when none is scheduled (or Redis does not answer). */
export async function nextSnapshotAt(connection: Redis, prefix: string, partner: string): Promise<Date | undefined> {
  const queue = new Queue(outboundQueue(partner), { connection, prefix });
  queue.on('error', () => {});
  try {
    const scheduler = await queue.getJobScheduler(`snapshot-${partner}`);
    return scheduler?.next === undefined ? undefined : new Date(scheduler.next);
  } catch {
    return undefined;
  } finally {
    await queue.close();
  }
}

/** When retention runs: daily at 03:30 UTC, after the SNAPSHOTs (02:00 by default) and the MRA calendar (00:05). */
export const RETENTION_CRON = '30 3 * * *';

/** Options of every retention job: a few tries (the store may be briefly away), failures kept a week. */
const RETENTION_JOB_OPTIONS = { attempts: 3, backoff: { type: 'exponential' as const, delay: 60_000 }, removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } };

/**
 * Declares the daily retention scheduler on `queue`. It runs with RETENTION_DAYS unset
 * too (keep for ever): it then removes only the pieces of bodies that never became an
 * exchange. Idempotent: every worker process may do it at start.
 */
export async function scheduleRetention(queue: Queue): Promise<void> {
  await queue.upsertJobScheduler(RETENTION_SCHEDULER_ID, { pattern: RETENTION_CRON, tz: 'UTC' }, { name: 'retention' satisfies JobName, data: {} satisfies RetentionPayload, opts: RETENTION_JOB_OPTIONS });
}

/** The job states the queue-depth gauge reports. */
const COUNTED_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** Counts the jobs of named queues by state, for the metrics scrape; one Queue handle per queue, kept until closed. */
export class QueueCounts {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  /** Jobs per queue and state; rejects when Redis does not answer. */
  async counts(names: readonly string[]): Promise<{ queue: string; state: string; count: number }[]> {
    const all = await Promise.all(
      names.map(async (name) => {
        const counts = await this.queue(name).getJobCounts(...COUNTED_STATES);
        return COUNTED_STATES.map((state) => ({ queue: name, state, count: counts[state] ?? 0 }));
      }),
    );
    return all.flat();
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    this.queues.clear();
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {});
      this.queues.set(name, queue);
    }
    return queue;
  }
}
