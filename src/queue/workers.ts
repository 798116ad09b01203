/**
 * The workers: one BullMQ worker per partner queue, one job at a time per queue (a
 * partner's batches apply in order; the advisory lock in apply-batch keeps that true
 * across processes). Every job of the catalogue has its handler here, or the start fails.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import { applyBatch, EarlierBatchPending, type ApplyDeps } from '../jobs/apply-batch.ts';
import { markFailed } from '../store/exchanges.ts';
import { applyQueue, type ApplyBatchPayload, type JobName } from './jobs.ts';
import { connectRedis, workerOptions } from './redis.ts';

const handlers: Record<JobName, (deps: ApplyDeps, job: Job) => Promise<unknown>> = {
  'apply-batch': (deps, job) => applyBatch({ ...deps, progress: (p) => job.updateProgress(p) }, (job.data as ApplyBatchPayload).exchangeId),
};

export class Workers {
  private readonly workers = new Map<string, Worker>();
  private readonly connection: Redis;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly deps: Omit<ApplyDeps, 'progress'>,
    private readonly log: Logger,
    private readonly lockSeconds = 30,
  ) {
    this.connection = connectRedis(redisUrl, workerOptions());
    this.connection.on('error', () => {});
  }

  /** Starts a worker for every partner that has none yet (new partners appear on a registry reload). */
  ensure(partnerIds: readonly string[]): void {
    for (const partner of partnerIds) {
      const name = applyQueue(partner);
      if (this.workers.has(name)) continue;
      const worker = new Worker(
        name,
        async (job, token) => {
          const handler = handlers[job.name as JobName];
          if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
          try {
            return await handler(this.deps, job);
          } catch (error) {
            // Waiting for an earlier batch is not a failure: try later without using up an attempt.
            if (!(error instanceof EarlierBatchPending) || token === undefined) throw forBullmq(error);
            await job.moveToDelayed(Date.now() + 2_000, token);
            throw new DelayedError();
          }
        },
        // A dead worker's job is taken over once its lock lapses; a live one renews it at half-time.
        { connection: this.connection, prefix: this.prefix, concurrency: 1, lockDuration: this.lockSeconds * 1000, stalledInterval: this.lockSeconds * 1000 },
      );
      worker.on('failed', (job, error) => {
        const final = job !== undefined && (error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1));
        this.log[final ? 'error' : 'info']({ queue: name, job: job?.id, attempt: job?.attemptsMade, err: error.message }, final ? 'job failed for good' : 'job will be tried again');
        if (final && job?.name === 'apply-batch') void this.markFailed((job.data as ApplyBatchPayload).exchangeId);
      });
      worker.on('error', (error) => this.log.warn({ queue: name, err: error.message }, 'worker error'));
      this.workers.set(name, worker);
    }
  }

  /**
   * Finishes the jobs in hand and stops taking new ones. With Redis gone a worker cannot
   * close cleanly; after the grace period it is closed by force (its job, if any, is
   * taken over by another worker once its lock lapses).
   */
  async close(graceMs = 10_000): Promise<void> {
    const workers = [...this.workers.values()];
    // Redis unreachable: nothing to finish cleanly, so no grace to wait out.
    const grace = this.connection.status === 'ready' ? graceMs : 0;
    const closed = await within(Promise.all(workers.map((w) => w.close())), grace);
    this.connection.disconnect();
    if (!closed) await within(Promise.all(workers.map((w) => w.close(true).catch(() => {}))), 1_000);
  }

  private async markFailed(exchangeId: string): Promise<void> {
    await markFailed(this.deps.db, exchangeId).catch(() => {});
  }
}

/** A job's error as BullMQ should see it: what trying again cannot mend stops the retries. */
function forBullmq(error: unknown): unknown {
  if (error instanceof GatewayError && error.code === 'batch-inapplicable') return new UnrecoverableError(error.message);
  return error;
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
