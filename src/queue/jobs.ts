/**
 * The job catalogue: each job's name, payload and the id derived from what it is about,
 * so that queueing it twice is harmless (BullMQ refuses `:` in ids and all-digit ids).
 */
import type { OutboxJob } from '../store/outbox.ts';

export interface ApplyBatchPayload {
  partner: string;
  exchangeId: string;
  sequence: number;
}

export interface JobPayloads {
  'apply-batch': ApplyBatchPayload;
}
export type JobName = keyof JobPayloads;

/** One queue per partner for applying batches: one partner's backlog never holds up another's, and order is kept within it. */
export const applyQueue = (partner: string) => `apply-${partner}`;

/** The job that applies one accepted batch. */
export function applyJob(partner: string, exchangeId: string, sequence: number): OutboxJob {
  const payload: ApplyBatchPayload = { partner, exchangeId, sequence };
  return { queue: applyQueue(partner), job: 'apply-batch', jobId: `apply-${exchangeId}`, payload: { ...payload } };
}
