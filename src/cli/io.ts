/** What a command may touch of its process: so that tests run commands in-process. */
import type { Readable } from 'node:stream';
import { GatewayError } from '../errors.ts';

export interface CommandIo {
  stdin: Readable;
  stdout: { write(chunk: string): unknown };
  /** `isTTY` as on process.stderr: progress bars are drawn only on a terminal. */
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** Exit statuses of the command line (FORMATS.md "Command line"; 64 is sysexits' EX_USAGE). */
export const exitCodes = { ok: 0, someRejected: 1, documentInvalid: 2, usage: 64, failure: 70 } as const;

/** The exit status of a command that failed with `error`: 64 for wrong usage or a bad setting, 70 for anything else. */
export function exitStatusOf(error: unknown): number {
  if (error instanceof GatewayError && (error.code === 'usage' || error.code === 'settings-invalid')) return exitCodes.usage;
  return exitCodes.failure;
}

/** Reads a stream to its end, refusing more than `maxBytes`. */
export async function readAll(stream: Readable, maxBytes: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) throw new RangeError(`${name} is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
