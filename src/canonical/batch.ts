/** The canonical batch: one partner document's envelope and its records. */
import { z } from 'zod';
import { Operator, Timestamp } from './operator.ts';

export const BatchKind = z.enum(['SNAPSHOT', 'DELTA']);
export type BatchKind = z.infer<typeof BatchKind>;

export const BatchId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);

export const Envelope = z.strictObject({
  sender: z.string().optional().describe('Party id of the sender, where the format names one.'),
  receiver: z.string().optional().describe('Party id of the receiver, where the format names one.'),
  batchId: BatchId,
  sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  kind: BatchKind,
  asOf: Timestamp,
  count: z.number().int().min(0).describe('Records the document says it carries.'),
});
export type Envelope = z.infer<typeof Envelope>;

export const Batch = z.strictObject({
  format: z.string().min(1).describe('The format the batch was read from or is to be written in (`eu-aeo`, `ctpat`, …).'),
  envelope: Envelope.optional(),
  records: z.array(Operator),
});
export type Batch = z.infer<typeof Batch>;
