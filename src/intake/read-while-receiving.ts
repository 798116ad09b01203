/**
 * A partner's document read while its body arrives (issue 10): each piece goes to the
 * reader and the digest as it is received, beside the signature check, so that by the
 * last byte the document is judged and the 202 waits only for the durable write and the
 * receipt. Only what the receipt and the read-back need is kept (counts, the first
 * rejections, the envelope), never the records: the apply job reads the stored body again.
 */
import { DocumentInvalidError } from '../errors.ts';
import type { Partner } from '../registry/partner.ts';
import type { Format } from '../translate/format.ts';
import { startReading, type ReadResult } from '../translate/read-document.ts';
import { bodyDigester } from './receipt.ts';
import { MAX_STORED_REJECTIONS } from './rejections.ts';

/** The document as read, or the fault of the whole that makes it a 422. */
export type DocumentRead = { read: ReadResult } | { fault: DocumentInvalidError };

export interface BodyReading {
  /** The next piece of the body, as received. */
  write(piece: Uint8Array): void;
  /** The body is complete. */
  finish(): DocumentRead;
  /** The body's digest as its receipt carries it (once the body is complete). */
  digest(): string;
}

export function readWhileReceiving(formats: ReadonlyMap<string, Format>, partner: Partner, gatewayId: string): BodyReading {
  const format = formats.get(partner.format);
  if (!format) throw new Error(`partner ${partner.id} has format ${partner.format}, which is not loaded`);
  // Only the rejections that will be stored are made; the rest are counted.
  const reading = startReading(format, { expectedSender: partner.id, expectedReceiver: gatewayId, keepRecords: false, maxRejections: MAX_STORED_REJECTIONS });
  // The first fault ends the reading; the rest of the body is still received (its digest and signature decide first).
  let failure: unknown;
  const attempt = <T>(step: () => T): T | undefined => {
    if (failure !== undefined) return undefined;
    try {
      return step();
    } catch (error) {
      failure = error;
      return undefined;
    }
  };
  const digester = bodyDigester();
  return {
    write(piece) {
      digester.update(piece);
      attempt(() => reading.write(piece));
    },
    digest: () => digester.digest(),
    finish() {
      const read = attempt(() => reading.end());
      if (read) return { read };
      if (failure instanceof DocumentInvalidError) return { fault: failure };
      // Anything else is a fault of the gateway: it surfaces as a 500 here, not in the socket's data handler.
      throw failure;
    },
  };
}
