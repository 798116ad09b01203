/**
 * The job catalogue: each job's name, payload and the id derived from what it is about,
 * so that queueing it twice is harmless (BullMQ refuses `:` in ids and all-digit ids).
 */
import { createHash } from 'node:crypto';
import type { Partner } from '../registry/partner.ts';
import type { OutboxJob } from '../store/outbox.ts';

export interface ApplyBatchPayload {
  partner: string;
  exchangeId: string;
  sequence: number;
}

export interface PrepareOutboundPayload {
  partner: string;
  /** A full SNAPSHOT (schedule, staff), rather than a DELTA of what changed. */
  snapshot?: boolean;
  /** A skip: a fresh SNAPSHOT under this dead document's sequence. */
  replaces?: { id: string; sequence: number };
}

export interface DeliverDocumentPayload {
  partner: string;
  deliveryId: string;
}

export interface MraCalendarPayload {
  partner: string;
}

/** The retention run carries nothing: the worker's RETENTION_DAYS and clock decide what is due. */
export type RetentionPayload = Record<string, never>;

export interface JobPayloads {
  'apply-batch': ApplyBatchPayload;
  'prepare-outbound': PrepareOutboundPayload;
  'deliver-document': DeliverDocumentPayload;
  'mra-calendar': MraCalendarPayload;
  retention: RetentionPayload;
}
export type JobName = keyof JobPayloads;

/** One queue per partner for applying batches: one partner's backlog never holds up another's, and order is kept within it. */
export const applyQueue = (partner: string) => `apply-${partner}`;

/** The id of the job that applies a batch: one per exchange. */
export const applyJobId = (exchangeId: string) => `apply-${exchangeId}`;

/** The job that applies one accepted batch. */
export function applyJob(partner: string, exchangeId: string, sequence: number): OutboxJob {
  const payload: ApplyBatchPayload = { partner, exchangeId, sequence };
  return { queue: applyQueue(partner), job: 'apply-batch', jobId: applyJobId(exchangeId), payload: { ...payload } };
}

/** One queue per partner for preparing its outbound documents, one at a time. */
export const outboundQueue = (partner: string) => `outbound-${partner}`;

/** One queue per partner for delivering: one partner's outage or slow endpoint never delays another's. */
export const deliverQueue = (partner: string) => `deliver-${partner}`;

/** The job that prepares a partner's next document; `reason` names what asked for it (an import, a schedule, staff). */
export function prepareJob(payload: PrepareOutboundPayload, reason: string): OutboxJob {
  return { queue: outboundQueue(payload.partner), job: 'prepare-outbound', jobId: `prepare-${payload.partner}-${reason}`, payload: { ...payload } };
}

/** The id of a stored document's first delivery job (a replay or a follow-up adds a suffix). */
export const deliverJobId = (deliveryId: string) => `deliver-${deliveryId}`;

/** The job that delivers one stored document. */
export function deliverJob(partner: string, deliveryId: string): OutboxJob {
  const payload: DeliverDocumentPayload = { partner, deliveryId };
  return { queue: deliverQueue(partner), job: 'deliver-document', jobId: deliverJobId(deliveryId), payload: { ...payload } };
}

/**
 * The MRA calendar's queue: one for every partner. Its jobs never interleave with an
 * apply through the partner's lock in the store, not through the queue, and keeping them
 * out of the apply queues leaves those holding batches only.
 */
export const CALENDAR_QUEUE = 'mra-calendar';

/** The id of a partner's daily calendar scheduler (one per partner, so a new partner gets its own on a reload). */
export const calendarSchedulerId = (partner: string) => `mra-calendar-${partner}`;

/**
 * The id of a calendar run for a partner's MRA entry as it now stands: a reload that
 * changes nothing of it, or two workers seeing the same reload, queue it once.
 */
export function calendarJobId(partner: Pick<Partner, 'id' | 'mra'>): string {
  const digest = createHash('sha256').update(JSON.stringify(partner.mra)).digest('hex').slice(0, 16);
  return `calendar-${partner.id}-${digest}`;
}

/** The retention job's queue (one for the whole gateway) and its daily scheduler. */
export const RETENTION_QUEUE = 'retention';
export const RETENTION_SCHEDULER_ID = 'retention-daily';

/** Every queue of the catalogue for these partners: what the queue-depth gauge counts. */
export function queueNames(partnerIds: readonly string[]): string[] {
  return [...partnerIds.flatMap((p) => [applyQueue(p), outboundQueue(p), deliverQueue(p)]), CALENDAR_QUEUE, RETENTION_QUEUE];
}
