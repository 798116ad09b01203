/** `mragw translate --from F --to T [FILE]` (FORMATS.md "Command line"). */
import { createReadStream } from 'node:fs';
import { DocumentInvalidError, GatewayError, type RecordIssue } from '../errors.ts';
import type { Format } from '../translate/format.ts';
import { translate } from '../translate/translate.ts';
import { exitCodes, readAll, type CommandIo } from './io.ts';

export interface TranslateOptions {
  from: string;
  to: string;
  file?: string | undefined;
  sequence: number;
  batchId?: string | undefined;
  maxBytes: number;
  gatewayId: string;
}

/** Runs a translation; returns the exit status. */
export async function translateCommand(formats: ReadonlyMap<string, Format>, options: TranslateOptions, io: CommandIo): Promise<number> {
  const name = options.file ?? '<stdin>';
  let input: Buffer;
  try {
    input = await readAll(options.file === undefined ? io.stdin : createReadStream(options.file), options.maxBytes, name);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    io.stderr.write(`mragw translate: ${e.code === 'ENOENT' ? `${name}: no such file` : e instanceof RangeError ? e.message : `${name}: ${e.message}`}\n`);
    return e instanceof RangeError ? exitCodes.documentInvalid : exitCodes.usage;
  }
  try {
    const result = translate(formats, { from: options.from, to: options.to, input, gatewayId: options.gatewayId, sequence: options.sequence, batchId: options.batchId });
    io.stdout.write(result.output);
    for (const issue of result.rejections) io.stderr.write(`${describeIssue(name, issue, 'rejected')}\n`);
    for (const issue of result.problems) io.stderr.write(`${describeIssue(name, issue, 'not written')}\n`);
    return result.rejections.length + result.problems.length > 0 ? exitCodes.someRejected : exitCodes.ok;
  } catch (error) {
    if (error instanceof DocumentInvalidError) {
      io.stderr.write(`${name}:${error.place}: the document is invalid: ${error.message}\n`);
      return exitCodes.documentInvalid;
    }
    if (error instanceof GatewayError && error.code === 'usage') {
      io.stderr.write(`mragw translate: ${error.message}\n`);
      return exitCodes.usage;
    }
    throw error;
  }
}

/** `FILE:PLACE: record N (key K) rejected: field: message [code]`, one line a fault. */
function describeIssue(file: string, issue: RecordIssue, what: string): string {
  const key = issue.key === null ? 'key unreadable' : `key ${issue.key}`;
  return `${file}:${issue.pointer}: record ${issue.index} (${key}) ${what}: ${issue.message} [${issue.code}]`;
}
