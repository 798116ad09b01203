/**
 * Staff work from the command line, through the running gateway's HTTP API (never its
 * store: on the embedded default that store belongs to the gateway process).
 */
import type { CtpatImportAnswer } from '../staff/ctpat-import.ts';
import { exitCodes, type CommandIo } from './io.ts';
import { bytesProgress, type Progress } from './progress.ts';

export interface StaffRequest {
  url: string;
  token: string | undefined;
  method: 'GET' | 'POST';
  path: string;
  body?: { json: unknown } | { raw: Buffer; contentType: string };
  /** A one-line summary of a successful answer, shown on a terminal where the progress bar was. */
  summary?: (answer: unknown) => string;
}

/** Sends one staff request; prints the JSON answer; exit 0 on success, 1 on a refusal. */
export async function staffRequest(request: StaffRequest, io: CommandIo): Promise<number> {
  if (!request.token) {
    io.stderr.write('mragw staff: a staff token is needed: --token or MRAGW_STAFF_TOKEN (mragw staff-token mints a development one)\n');
    return exitCodes.usage;
  }
  const headers: Record<string, string> = { Authorization: `Bearer ${request.token}` };
  let body: string | Buffer | ReadableStream<Uint8Array> | undefined;
  let progress: Progress | undefined;
  if (request.body && 'json' in request.body) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(request.body.json);
  } else if (request.body) {
    headers['Content-Type'] = request.body.contentType;
    body = request.body.raw;
    // Streamed only to draw its progress: off a terminal the body goes as one buffer, as it always did.
    if (io.stderr.isTTY === true) {
      progress = bytesProgress(io.stderr, request.body.raw.length, 'uploading');
      body = streamed(request.body.raw, progress);
    }
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${request.url.replace(/\/$/, '')}${request.path}`, { method: request.method, headers, ...(body !== undefined && { body }), ...(body instanceof ReadableStream && { duplex: 'half' }) });
    text = await response.text();
  } catch (error) {
    progress?.stop();
    throw error;
  }
  progress?.stop(response.ok && request.summary ? summaryOf(text, request.summary) : undefined);
  io.stdout.write(`${formatJson(text)}\n`);
  if (!response.ok) {
    io.stderr.write(`mragw staff: the gateway answered ${response.status}\n`);
    return exitCodes.someRejected;
  }
  return exitCodes.ok;
}

/** 64 KiB at a time, counted as fetch pulls them: bytes handed to the socket, near enough to bytes sent. */
function streamed(data: Buffer, progress: Progress): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) {
        progress.phase('importing');
        controller.close();
        return;
      }
      const end = Math.min(offset + 65_536, data.length);
      controller.enqueue(data.subarray(offset, end));
      offset = end;
      progress.update(offset);
    },
  });
}

function summaryOf(text: string, summary: (answer: unknown) => string): string | undefined {
  try {
    return summary(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** What a C-TPAT import changed, in one line. */
export function ctpatImportSummary(answer: unknown): string {
  const a = answer as CtpatImportAnswer;
  return `import ${a.importId} as of ${a.importDate}: ${a.imported} lines imported, ${a.rejectedLines} rejected; ${a.added.count} new, ${a.changed.count} changed, ${a.noLongerSendable.count} no longer sendable abroad, ${a.removed.count} removed, ${a.unchanged} unchanged`;
}

function formatJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
