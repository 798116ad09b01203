/**
 * A reference partner inbox (PROTOCOL.md §7 from the receiving side), as a foreign
 * administration would build it: verify the gateway's signed request with the same
 * verifier the gateway uses (§2, roles swapped), read the document with the partner's
 * own mapping, decide its sequence, and answer 202 `{exchangeId, receipt}` with a
 * receipt (§4) signed by the partner's key, or a §3 refusal as problem+json (§8).
 * State is in memory: it is a test bench, not a store of record.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign } from 'jose';
import { secondsOf, systemClock, type Clock } from '../clock.ts';
import { DocumentInvalidError, errorTable, GatewayError, type ErrorCode, type ErrorSpec } from '../errors.ts';
import { RECEIPT_TYP } from '../intake/receipt.ts';
import type { Partner, PartnerDirectory } from '../registry/partner.ts';
import type { Format } from '../translate/format.ts';
import { readDocument } from '../translate/read-document.ts';
import { createSignatureCheck, verifyHead } from '../verify/index.ts';
import { bodyDigest } from '../intake/receipt.ts';
import { InboxLedger } from './inbox-ledger.ts';

/** The partner's key that signs receipts. */
export interface ReceiptKey {
  privateKey: KeyObject;
  kid: string;
  alg: 'ES256' | 'ES384' | 'EdDSA' | 'PS256';
}

/** One document the inbox took (202), for the one line it prints. */
export interface InboxDocument {
  partner: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  batchId: string;
  exchangeId: string;
  /** Records present in the document. */
  records: number;
  /** Records that fail the partner's inbound record rules (FORMATS.md "Outbound": its identifier rules do not apply outbound). */
  rejected: number;
  disposition: 'accepted' | 'held' | 'stale';
  heldReason?: string;
}

/** What the inbox needs: who it is, how it reads and signs, and whom it trusts. */
export interface InboxOptions {
  /** The partner the inbox plays (`aud` of requests, `iss` of receipts). */
  partner: Partner;
  /** The partner's format, from its registry entry. */
  format: Format;
  receiptKey: ReceiptKey;
  /** The gateway's id: `iss` of requests, `aud` of receipts. */
  gatewayId: string;
  /** Holds the gateway only, its keys from its JWKS (gatewayDirectory). */
  gateway: PartnerDirectory;
  clock?: Clock;
  /** Allowed distance of `iat` from the inbox's clock (default 300 s, as §2). */
  iatSkewSeconds?: number;
  /** Refuses larger bodies with 413 (default 64 MiB, as §6). */
  maxBodyBytes?: number;
  /** A document was taken (202, or a repeat answered 200 is not told again). */
  onDocument?: (doc: InboxDocument) => void;
  /** A request was refused: its status and problem slug. */
  onRefusal?: (status: number, slug: string, detail: string) => void;
}

/** The request handler of the inbox; any path takes a POST, since htu must match whatever delivery.url names. */
export function inboxHandler(options: InboxOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const ledger = new InboxLedger();
  return (req, res) => {
    handle(options, ledger, req, res).catch((error: unknown) => {
      // The sender's connection is gone (it died, or gave up), perhaps while its request
      // waited or its body was read: no one is left to answer, and nothing was refused.
      // Its retry, if any, is a request of its own.
      if (!(error instanceof GatewayError) && req.socket.destroyed) return void res.destroy();
      answerProblem(res, options, error instanceof GatewayError ? error : new GatewayError('internal', 'the inbox failed to answer this request'));
    });
  };
}

/** Starts an inbox on host:port (port 0: any free port); resolves once it listens. */
export async function startInbox(options: InboxOptions & { host: string; port: number }): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(inboxHandler(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: InboxOptions, ledger: InboxLedger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const clock = options.clock ?? systemClock;
  // The iat window is judged when the headers arrive, not after a slow body.
  const nowSeconds = secondsOf(clock);
  if (req.method !== 'POST') throw new GatewayError('not-found', 'the inbox takes documents by POST only');
  const { partner, format } = options;

  // §2 steps 1–6, the gateway in the role of the sender.
  const head = await verifyHead(
    {
      signature: header(req, 'jws-signature'),
      method: req.method,
      target: req.url ?? '',
      contentType: header(req, 'content-type'),
      contentEncoding: header(req, 'content-encoding'),
      hasBody: true,
    },
    { gatewayId: partner.id, partners: options.gateway, nowSeconds, iatSkewSeconds: options.iatSkewSeconds ?? 300, expectedMediaType: () => format.mediaType },
  );
  if (!head.ok) throw new GatewayError(head.slug, head.detail);
  if (head.header.iss !== options.gatewayId) throw new GatewayError('unknown-key', 'the kid is not a key registered for the party named by iss');

  // Steps 7 and 8 as the body streams in.
  const check = createSignatureCheck(head);
  const body = await readBody(req, options.maxBodyBytes ?? 64 * 1024 * 1024, (chunk) => check.update(chunk));
  if (!check.verify()) throw new GatewayError('signature-invalid', 'the signature does not verify over the protected header and the body as received');

  const digest = bodyDigest(body);
  const jti = head.header.jti;
  const byJti = ledger.byJti(jti, digest);
  if (byJti?.kind === 'conflict') throw new GatewayError('jti-conflict', 'this jti was used for another body');
  if (byJti?.kind === 'same') return send(res, 200, 'application/json', await byJti.answer.body);

  // A fault of the document as a whole is a 422 (DocumentInvalidError, thrown by the reader).
  const read = readDocument(format, body, { expectedSender: options.gatewayId, expectedReceiver: partner.id });
  const envelope = read.batch.envelope;
  if (envelope === undefined) throw new DocumentInvalidError(`a ${format.id} document has no envelope: no batch id or sequence to answer for`, '/');
  const byBatch = ledger.byBatch(envelope.batchId, digest);
  if (byBatch?.kind === 'conflict') throw new GatewayError('duplicate-batch', `batch ${envelope.batchId} was received before with another body`);
  if (byBatch?.kind === 'same') return send(res, 200, 'application/json', await byBatch.answer.body);

  const { disposition, heldReason } = ledger.decide(envelope);
  const exchangeId = randomUUID();
  const receipt = signReceipt(options.receiptKey, {
    iss: partner.id,
    aud: options.gatewayId,
    iat: secondsOf(clock),
    jti: randomUUID(),
    exchangeId,
    requestJti: jti,
    batchId: envelope.batchId,
    digest,
    receivedAt: new Date(nowSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    kind: envelope.kind,
    sequence: envelope.sequence,
    recordCount: envelope.count,
    disposition,
    ...(heldReason !== undefined && { heldReason }),
  });
  const answer = receipt.then((token) => JSON.stringify({ exchangeId, receipt: token }));
  // Remembered before the signing is awaited: nothing between the look-ups above and here waits.
  ledger.remember(jti, envelope.batchId, { digest, body: answer });
  send(res, 202, 'application/json', await answer);
  options.onDocument?.({
    partner: partner.id,
    sequence: envelope.sequence,
    kind: envelope.kind,
    batchId: envelope.batchId,
    exchangeId,
    records: envelope.count,
    rejected: read.rejectedCount,
    disposition,
    ...(heldReason !== undefined && { heldReason }),
  });
}

/** A receipt per §4: compact JWS, header { alg, kid, typ } only. */
function signReceipt(key: ReceiptKey, claims: Record<string, unknown>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: RECEIPT_TYP }).sign(key.privateKey);
}

/** The body, each chunk handed to `onChunk` as it comes; refused at the limit (413) without buffering the rest. */
async function readBody(req: IncomingMessage, maxBytes: number, onChunk: (chunk: Buffer) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new GatewayError('payload-too-large', `the body is larger than ${maxBytes} bytes`);
    onChunk(buffer);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * problem+json from the gateway's error table (src/errors.ts), so a partner sees the
 * same slugs, titles and statuses as §3. (The edge's own writer, receive/problem.ts,
 * is bound to express and the store; the dependency rules keep it there.)
 */
function answerProblem(res: ServerResponse, options: InboxOptions, error: GatewayError): void {
  const spec: ErrorSpec = errorTable[error.code as ErrorCode];
  const status = spec.slug === null ? 500 : spec.status;
  const body: Record<string, unknown> = spec.slug === null
    ? { type: 'urn:mra:problem:internal', title: spec.title, status: 500, detail: 'the inbox failed to answer this request' }
    : { type: `urn:mra:problem:${spec.slug}`, title: spec.title, status, detail: error.message };
  if (spec.slug !== null && error.issues.length > 0) {
    body['errors'] = error.issues.slice(0, 100).map((issue) => ({ index: null, key: null, pointer: issue.pointer ?? '', code: issue.code, message: issue.message }));
    body['errorCount'] = error.issues.length;
    body['truncated'] = error.issues.length > 100;
  }
  if (status === 401) res.setHeader('WWW-Authenticate', 'JWS-Signature');
  options.onRefusal?.(status, spec.slug ?? 'internal', String(body['detail']));
  // A refusal before the body was read: close rather than drain what may be 64 MiB.
  if (!res.req.complete) res.setHeader('Connection', 'close');
  send(res, status, 'application/problem+json', JSON.stringify(body));
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
