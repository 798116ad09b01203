/**
 * Staff work from the command line, through the running gateway's HTTP API (never its
 * store: on the embedded default that store belongs to the gateway process).
 */
import { exitCodes, type CommandIo } from './io.ts';

export interface StaffRequest {
  url: string;
  token: string | undefined;
  method: 'GET' | 'POST';
  path: string;
  body?: { json: unknown } | { raw: Buffer; contentType: string };
}

/** Sends one staff request; prints the JSON answer; exit 0 on success, 1 on a refusal. */
export async function staffRequest(request: StaffRequest, io: CommandIo): Promise<number> {
  if (!request.token) {
    io.stderr.write('mragw staff: a staff token is needed: --token or MRAGW_STAFF_TOKEN (mragw staff-token mints a development one)\n');
    return exitCodes.usage;
  }
  const headers: Record<string, string> = { Authorization: `Bearer ${request.token}` };
  let body: string | Buffer | undefined;
  if (request.body && 'json' in request.body) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(request.body.json);
  } else if (request.body) {
    headers['Content-Type'] = request.body.contentType;
    body = request.body.raw;
  }
  const response = await fetch(`${request.url.replace(/\/$/, '')}${request.path}`, { method: request.method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  io.stdout.write(`${formatJson(text)}\n`);
  if (!response.ok) {
    io.stderr.write(`mragw staff: the gateway answered ${response.status}\n`);
    return exitCodes.someRejected;
  }
  return exitCodes.ok;
}

function formatJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
