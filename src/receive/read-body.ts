/**
 * Reads a request body as a stream, never past the partner's limit, within the
 * pre-authentication budget (bytes from senders not yet authenticated, across all
 * requests), and within a time limit so that a slow sender cannot hold a slot.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.ts';

/** The codes of a GatewayError that refuses a body. */
export type BodyFault = 'payload-too-large' | 'busy' | 'request-timeout' | 'bad-request';

const fault = (code: BodyFault, message: string) => new GatewayError(code, message);

/** Bytes in flight from unauthenticated senders, across every request of this process. */
export class PreauthBudget {
  private inFlight = 0;
  constructor(private readonly maxBytes: number) {}
  tryReserve(bytes: number): boolean {
    if (this.inFlight + bytes > this.maxBytes) return false;
    this.inFlight += bytes;
    return true;
  }
  release(bytes: number): void {
    this.inFlight -= bytes;
  }
  get used(): number {
    return this.inFlight;
  }
}

export interface ReadBodyOptions {
  limit: number;
  budget: PreauthBudget;
  timeoutMs: number;
  /** Takes each chunk as it arrives, in order (the signature check, the reader, the store): nothing else keeps it. */
  onChunk(chunk: Buffer): void;
}

/**
 * Reads the whole body, handing each chunk to `onChunk`, and resolves with its size, or
 * rejects with a GatewayError with a BodyFault code; the budget is released once the body
 * is read or refused. The chunks are not collected here: whoever needs them keeps them
 * (a large body's are written to the store as they come, so holding them all again here
 * doubled the memory of an upload the store was slow to take).
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    let done = false;
    const finish = (error?: GatewayError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.budget.release(size);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (error) {
        // Stop reading what is left of a refused body.
        req.pause();
        reject(error);
      } else resolve(size);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > options.limit) return finish(fault('payload-too-large', `the body is larger than this partner's limit of ${options.limit} bytes`));
      if (!options.budget.tryReserve(chunk.length)) return finish(fault('busy', 'too many unauthenticated bytes are in flight; try again shortly'));
      size += chunk.length;
      options.onChunk(chunk);
    };
    const onEnd = () => finish();
    const onError = () => finish(fault('bad-request', 'the body could not be read'));
    const onAborted = () => finish(fault('bad-request', 'the request was aborted'));
    const timer = setTimeout(() => finish(fault('request-timeout', `the body was not received within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}
