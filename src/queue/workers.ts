/**
 * The workers: for each partner, one BullMQ worker per queue of the catalogue (applying
 * its batches, preparing its outbound documents, delivering them), one job at a time per
 * queue, so a partner's work goes in order and one partner's backlog or outage never
 * holds up another's; and one for the MRA calendar, which runs daily on a job scheduler
 * and at once when a partner's MRA entry changes; and one for retention, daily. Every
 * job of the catalogue has its handler here, or the build fails. Each job that ends
 * (completed, or failed for good) reports its latency.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.ts';
import { GatewayError } from '../errors.ts';
import { applyBatch, EarlierBatchPending, type ApplyDeps } from '../jobs/apply-batch.ts';
import { recordApplyFailure } from '../jobs/apply-failed.ts';
import { deliverDocument, DeliverLater, type DeliverDeps } from '../jobs/deliver-document.ts';
import { runMraCalendar } from '../jobs/mra-calendar.ts';
import { prepareOutbound, type PrepareDeps } from '../jobs/prepare-outbound.ts';
import { runRetention } from '../jobs/retention.ts';
import {
  applyQueue,
  CALENDAR_QUEUE,
  calendarJobId,
  calendarSchedulerId,
  deliverQueue,
  outboundQueue,
  RETENTION_QUEUE,
  type ApplyBatchPayload,
  type DeliverDocumentPayload,
  type JobName,
  type MraCalendarPayload,
  type PrepareOutboundPayload,
} from './jobs.ts';
import { connectRedis, workerOptions } from './redis.ts';
import { refusedForGood } from '../store/db.ts';
import { scheduleRetention } from './schedules.ts';

export interface WorkerDeps {
  apply: Omit<ApplyDeps, 'progress'>;
  /** Outbound delivery; a worker set without it takes no outbound jobs. */
  prepare?: PrepareDeps;
  deliver?: DeliverDeps;
  /** The clock of the MRA calendar and of retention (default: the system's). */
  clock?: Clock;
  /** RETENTION_DAYS: applied documents older than this are removed; undefined keeps them for ever. */
  retentionDays?: number | undefined;
  /** Told of each job that ends: its queue, outcome, and seconds since it was created (or due, for a delayed or scheduled job). */
  jobFinished?(queue: string, outcome: 'completed' | 'failed', seconds: number): void;
}

const outboundOnly = (name: string) => new GatewayError('batch-inapplicable', `this worker set does not take ${name} jobs`);

const handlers: Record<JobName, (deps: WorkerDeps, job: Job) => Promise<unknown>> = {
  'apply-batch': (deps, job) => applyBatch({ ...deps.apply, progress: progressOnceLong(job) }, (job.data as ApplyBatchPayload).exchangeId),
  // It waits for the batches accepted before the job was made, an hour at most: a batch left
  // to apply with no job behind it (its failure could not be recorded) must not hold it for ever.
  'mra-calendar': (deps, job) =>
    runMraCalendar({ db: deps.apply.db, partner: deps.apply.partner, clock: deps.clock ?? systemClock }, (job.data as MraCalendarPayload).partner, Date.now() - job.timestamp < CALENDAR_MAX_WAIT_MS ? { acceptedBefore: new Date(job.timestamp) } : 'no-wait'),
  'prepare-outbound': (deps, job) => {
    const { partner, snapshot, replaces } = job.data as PrepareOutboundPayload;
    if (!deps.prepare) throw outboundOnly('prepare-outbound');
    return prepareOutbound(deps.prepare, partner, { ...(snapshot && { snapshot }), ...(replaces && { replaces }) });
  },
  'deliver-document': (deps, job) => {
    if (!deps.deliver) throw outboundOnly('deliver-document');
    return deliverDocument(deps.deliver, (job.data as DeliverDocumentPayload).deliveryId);
  },
  retention: (deps) => runRetention({ db: deps.apply.db, clock: deps.clock ?? systemClock, days: deps.retentionDays }),
};

/** Below this much time into a job, its progress is not reported. */
const PROGRESS_AFTER_MS = 200;

/**
 * Reports a job's progress once it has run long enough for anyone to watch it: each
 * report is a script run in Redis, and a small batch (most of them) is done before a
 * report could be read, yet paid three of them (issue 10).
 */
function progressOnceLong(job: Job): (percent: number) => Promise<void> {
  const started = performance.now();
  return async (percent) => {
    if (performance.now() - started >= PROGRESS_AFTER_MS) await job.updateProgress(percent);
  };
}

/** Seconds from when a job was due (created, plus the delay it was added with) to when it ended. */
function latencySeconds(job: Job): number {
  return Math.max(0, ((job.finishedOn ?? Date.now()) - (job.timestamp + (job.opts.delay ?? 0))) / 1000);
}

/** How long a calendar job waits for the partner's queued batches before it runs regardless. */
const CALENDAR_MAX_WAIT_MS = 3_600_000;

/** Options of every calendar job: a few tries (the store may be briefly away), failures kept a week for staff. */
const CALENDAR_JOB_OPTIONS = { attempts: 5, backoff: { type: 'exponential' as const, delay: 5_000 }, removeOnComplete: { count: 1_000 }, removeOnFail: { age: 7 * 24 * 3600 } };

/** A partner's scheduled full SNAPSHOT: a cron pattern (UTC). */
export interface SnapshotSchedule {
  partner: string;
  cron: string;
}

export class Workers {
  private readonly workers = new Map<string, Worker>();
  private readonly connection: Redis;
  private calendar: { queue: Queue; cron: string; scheduled: Set<string> } | undefined;
  private retentionQueue: Queue | undefined;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly deps: WorkerDeps,
    private readonly log: Logger,
    private readonly lockSeconds = 30,
  ) {
    this.connection = connectRedis(redisUrl, workerOptions());
    this.connection.on('error', () => {});
  }

  /** Starts the workers of every partner that has none yet (new partners appear on a registry reload). */
  ensure(partnerIds: readonly string[]): void {
    for (const partner of partnerIds) this.schedule(partner);
    for (const partner of partnerIds) {
      this.start(applyQueue(partner));
      if (this.deps.prepare) this.start(outboundQueue(partner));
      if (this.deps.deliver) this.start(deliverQueue(partner));
    }
  }

  /**
   * The partners' daily (or configured) SNAPSHOTs, as BullMQ job schedulers: upserted, so
   * every worker process may declare them and a changed pattern replaces the old one.
   */
  async scheduleSnapshots(schedules: readonly SnapshotSchedule[]): Promise<void> {
    for (const { partner, cron } of schedules) {
      const queue = new Queue(outboundQueue(partner), { connection: this.connection, prefix: this.prefix });
      try {
        await queue.upsertJobScheduler(`snapshot-${partner}`, { pattern: cron, tz: 'UTC' }, { name: 'prepare-outbound', data: { partner, snapshot: true } satisfies PrepareOutboundPayload });
      } finally {
        await queue.close();
      }
    }
  }

  private start(name: string): void {
    if (this.workers.has(name)) return;
    const worker = new Worker(
      name,
      (job, token) => runOrWait(this.deps, job, token),
      // A dead worker's job is taken over once its lock lapses; a live one renews it at half-time.
      { connection: this.connection, prefix: this.prefix, concurrency: 1, lockDuration: this.lockSeconds * 1000, stalledInterval: this.lockSeconds * 1000 },
    );
    this.observe(name, worker);
    worker.on('failed', (job, error) => {
      const final = job !== undefined && (error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1));
      this.log[final ? 'error' : 'info']({ queue: name, job: job?.id, attempt: job?.attemptsMade, err: error.message }, final ? 'job failed for good' : 'job will be tried again');
      if (final && job?.name === 'apply-batch') void this.markFailed((job.data as ApplyBatchPayload).exchangeId, error.message);
    });
    worker.on('error', (error) => this.log.warn({ queue: name, err: error.message }, 'worker error'));
    this.workers.set(name, worker);
  }

  /**
   * Starts the MRA calendar: its worker, and a daily scheduler per partner at `cron`
   * (UTC). Upserting a scheduler is idempotent, so every worker process may do it at start.
   */
  startCalendar(cron: string, partnerIds: readonly string[]): void {
    if (this.calendar) return;
    const queue = this.scheduledRuns(CALENDAR_QUEUE, 'MRA calendar', (job) => ({ partner: (job.data as MraCalendarPayload).partner }));
    this.calendar = { queue, cron, scheduled: new Set() };
    for (const partner of partnerIds) this.schedule(partner);
  }

  /**
   * Runs the MRA calendar at once for these partners (their MRA entry changed on a
   * reload, or the process just started and the registry may have changed while it was
   * down). Never throws: if Redis is away, the daily run catches up.
   */
  async calendarNow(partnerIds: readonly string[]): Promise<void> {
    const calendar = this.calendar;
    if (!calendar) return;
    const partners = partnerIds.flatMap((id) => this.deps.apply.partner(id) ?? []);
    if (partners.length === 0) return;
    const jobs = partners.map((p) => ({ name: 'mra-calendar' satisfies JobName, data: { partner: p.id } satisfies MraCalendarPayload, opts: { ...CALENDAR_JOB_OPTIONS, jobId: calendarJobId(p) } }));
    await calendar.queue.addBulk(jobs).catch((error: unknown) => this.log.warn({ partners: partners.map((p) => p.id), err: (error as Error).message }, 'MRA calendar could not be queued; the daily run will catch up'));
  }

  /**
   * Starts retention: its worker, and the daily scheduler. A scheduler that cannot be set
   * now is set at the next start.
   */
  startRetention(): void {
    if (this.workers.has(RETENTION_QUEUE)) return;
    const queue = this.scheduledRuns(RETENTION_QUEUE, 'retention', () => ({}));
    this.retentionQueue = queue;
    scheduleRetention(queue).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'the retention scheduler could not be set; it is set at the next start'));
  }

  /**
   * Sets the calendar's and retention's schedulers again (upserts: harmless when they are
   * there), for a Redis that lost them with the rest of its data.
   */
  reschedule(): void {
    const calendar = this.calendar;
    if (calendar) {
      const partners = [...calendar.scheduled];
      calendar.scheduled.clear();
      for (const partner of partners) this.schedule(partner);
    }
    if (this.retentionQueue) scheduleRetention(this.retentionQueue).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'the retention scheduler could not be set; it is set at the next start'));
  }

  /** Reports each job that ends, completed or failed for good, to `jobFinished`. */
  private observe(queue: string, worker: Worker): void {
    const report = this.deps.jobFinished;
    if (!report) return;
    worker.on('completed', (job) => report(queue, 'completed', latencySeconds(job)));
    worker.on('failed', (job, error) => {
      if (job === undefined) return;
      const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (final) report(queue, 'failed', latencySeconds(job));
    });
  }

  /** The queue of a scheduled job (calendar, retention) and its one worker: each run is logged, a failure reported. */
  private scheduledRuns(name: string, what: string, about: (job: Job) => Record<string, unknown>): Queue {
    const queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
    queue.on('error', (error) => this.log.warn({ queue: name, err: error.message }, `${what} queue error`));
    const worker = new Worker(
      name,
      async (job, token) => {
        const outcome = await runOrWait(this.deps, job, token);
        this.log.info({ job: job.id, ...about(job), outcome }, `${what} run`);
        return outcome;
      },
      { connection: this.connection, prefix: this.prefix, concurrency: 1, lockDuration: this.lockSeconds * 1000, stalledInterval: this.lockSeconds * 1000 },
    );
    this.observe(name, worker);
    worker.on('failed', (job, error) => this.log.error({ queue: name, job: job?.id, attempt: job?.attemptsMade, err: error.message }, `${what} run failed`));
    worker.on('error', (error) => this.log.warn({ queue: name, err: error.message }, 'worker error'));
    this.workers.set(name, worker);
    return queue;
  }

  /** Upserts the partner's daily calendar scheduler, once per process. */
  private schedule(partner: string): void {
    const calendar = this.calendar;
    if (!calendar || calendar.scheduled.has(partner)) return;
    calendar.scheduled.add(partner);
    calendar.queue
      .upsertJobScheduler(calendarSchedulerId(partner), { pattern: calendar.cron, tz: 'UTC' }, { name: 'mra-calendar' satisfies JobName, data: { partner } satisfies MraCalendarPayload, opts: CALENDAR_JOB_OPTIONS })
      .catch((error: unknown) => {
        calendar.scheduled.delete(partner);
        this.log.warn({ partner, err: (error as Error).message }, 'MRA calendar scheduler could not be registered; tried again on the next reload');
      });
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
    await within(Promise.all([this.calendar?.queue.close(), this.retentionQueue?.close()]), grace === 0 ? 1_000 : grace);
    this.connection.disconnect();
    if (!closed) await within(Promise.all(workers.map((w) => w.close(true).catch(() => {}))), 1_000);
  }

  private async markFailed(exchangeId: string, reason: string): Promise<void> {
    await recordApplyFailure(this.deps.apply.db, exchangeId, reason).catch((error: unknown) => this.log.error({ exchangeId, err: (error as Error).message }, 'a failed apply could not be recorded'));
  }
}

/** A job's error as BullMQ should see it: what trying again cannot mend stops the retries. */
/**
 * Runs a job's handler. Waiting (an earlier batch or document first, a breaker open, a
 * retry's backoff) moves the job to delayed: it is not a failed attempt, and uses none.
 */
async function runOrWait(deps: WorkerDeps, job: Job, token: string | undefined): Promise<unknown> {
  const handler = handlers[job.name as JobName];
  if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
  try {
    return await handler(deps, job);
  } catch (error) {
    const at = error instanceof EarlierBatchPending ? Date.now() + 2_000 : error instanceof DeliverLater ? Date.now() + Math.max(0, error.delayMs) : undefined;
    if (at === undefined || token === undefined) throw forBullmq(error);
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }
}

function forBullmq(error: unknown): unknown {
  if (error instanceof GatewayError && !error.retryable) return new UnrecoverableError(error.message);
  if (refusedForGood(error)) return new UnrecoverableError(`the store refused the data (${(error as { code: string }).code}): ${(error as Error).message}`);
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
