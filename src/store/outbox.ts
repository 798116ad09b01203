/** The outbox: jobs recorded with what they are about, relayed to the queue afterwards. */
import type { Queryable } from './db.ts';

export interface OutboxJob {
  queue: string;
  job: string;
  /** Derived from what the job is about, so that writing it twice is harmless. */
  jobId: string;
  payload: Record<string, unknown>;
}

export interface PendingJob extends OutboxJob {
  id: number;
}

/** Records a job in the caller's transaction; the same job id twice is kept once. */
export async function addToOutbox(tx: Queryable, job: OutboxJob): Promise<void> {
  await tx.query('insert into outbox (queue, job, job_id, payload) values ($1, $2, $3, $4) on conflict (job_id) do nothing', [job.queue, job.job, job.jobId, JSON.stringify(job.payload)]);
}

/**
 * Up to `limit` jobs not yet relayed, marked relayed and locked in one statement (so that
 * concurrent relays take different ones): the caller's transaction commits the mark only
 * once the queue took them.
 */
export async function takePending(tx: Queryable, limit: number): Promise<PendingJob[]> {
  const { rows } = await tx.query<{ id: number; queue: string; job: string; job_id: string; payload: Record<string, unknown> }>(
    `update outbox set relayed_at = now()
      where id in (select id from outbox where relayed_at is null order by id limit $1 for update skip locked)
      returning id, queue, job, job_id, payload`,
    [limit],
  );
  // In the order they were written (update … returning keeps no order).
  return rows.sort((a, b) => a.id - b.id).map((r) => ({ id: r.id, queue: r.queue, job: r.job, jobId: r.job_id, payload: r.payload }));
}

/** How many jobs wait to be relayed (readiness and metrics). */
export async function pendingCount(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('select count(*)::int as n from outbox where relayed_at is null');
  return rows[0]?.n ?? 0;
}

/**
 * Makes the relayed jobs of batches still to apply (received, or processing after a
 * crash) pending again, for a queue that lost what it held (Redis restarted empty): their
 * rows were marked relayed when Redis took them, so nothing else would queue them again.
 * `jobIdOf` names a batch's apply job. Relaying one twice is harmless (BullMQ keeps a job
 * id once; an applied batch is not applied again). Returns how many rows were reopened.
 */
export async function reopenUnapplied(q: Queryable, jobIdOf: (exchangeId: string) => string): Promise<number> {
  const { rows } = await q.query<{ id: string }>("select id::text from exchanges where state in ('received', 'processing')");
  return reopen(q, rows.map((r) => jobIdOf(r.id)));
}

/**
 * The same for documents still to deliver: a pending delivery whose job Redis lost would
 * wait for ever, and every later document to its partner behind it. `jobIdOf` names a
 * delivery's first job, which every stored document has.
 */
export async function reopenUndelivered(q: Queryable, jobIdOf: (deliveryId: string) => string): Promise<number> {
  const { rows } = await q.query<{ id: string }>("select id::text from deliveries where state = 'pending'");
  return reopen(q, rows.map((r) => jobIdOf(r.id)));
}

async function reopen(q: Queryable, jobIds: string[]): Promise<number> {
  if (jobIds.length === 0) return 0;
  const reopened = await q.query('update outbox set relayed_at = null where job_id = any($1) and relayed_at is not null returning id', [jobIds]);
  return reopened.rows.length;
}
