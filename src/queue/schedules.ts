/** When the job schedulers will next run, for staff: read from BullMQ, the only place that knows. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { outboundQueue } from './jobs.ts';

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
