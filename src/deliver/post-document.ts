/**
 * One delivery attempt (PROTOCOL.md §7): sign the document per §2 with the gateway's
 * current key and a fresh `iat` (same bytes, same `jti` on every attempt), POST it to
 * the partner's `delivery.url`, and judge the answer. No queue and no store here: the
 * delivery job decides when to call this again, and records what it returns.
 *
 * Judgement: `delivered` only with a receipt that verifies against the partner's
 * registered keys and answers this very request; `retry` for what may pass (network,
 * timeout, 408, 429, 5xx); `dead` for what trying again cannot fix (any other status, a
 * bad or missing receipt, an answer over the byte cap). Error strings name the fault
 * in one line and never carry a body, a header value or key material.
 */
import { performance } from 'node:perf_hooks';
import { secondsOf, type Clock } from '../clock.ts';
import type { Partner } from '../registry/partner.ts';
import { partnerUrlProblem } from '../registry/partner-url.ts';
import { signRequest, type SigningKey } from '../sign/request-signature.ts';
import { bodyDigest } from '../intake/receipt.ts';
import { discard, readCapped, retryAfterSeconds } from './http-answer.ts';
import { verifyPartnerReceipt, type PartnerKeyLookup } from './partner-receipt.ts';

/** A document ready to go: its bytes are fixed once, so every attempt sends the same. */
export interface OutboundDocument {
  id: string;
  partner: string;
  sequence: number;
  batchId: string;
  jti: string;
  contentType: string;
  body: Buffer;
  /** sha-256= + base64 of the body's SHA-256, as in receipts */
  digest: string;
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number; durationMs: number; receipt: string; exchangeId: string; disposition: 'accepted' | 'held' | 'stale'; heldReason?: string }
  | { kind: 'retry'; status?: number; durationMs: number; error: string; retryAfterSeconds?: number }
  | { kind: 'dead'; status?: number; durationMs: number; error: string };

/** What an attempt needs; everything that touches the world is injected. */
export interface PostDeps {
  /** `iss` of the request, `aud` the receipt must name. */
  gatewayId: string;
  /** The receiver's registry entry: `delivery.url`, `keys.algorithms`. */
  partner: Partner;
  /** The key that signs now, asked at every attempt (see gatewaySigningKey). */
  signingKey: () => SigningKey;
  /** The partner's keys, from its registry entry only (PartnerDirectory.key). */
  keyOf: PartnerKeyLookup;
  /** For `iat` and Retry-After dates. */
  clock: Clock;
  fetch?: typeof fetch;
  /** The whole attempt, answer body included (default 30 s). */
  timeoutMs?: number;
  /** The most of an answer body read (default 64 KiB: a receipt is about 1 KiB). */
  maxResponseBytes?: number;
}

export const defaultTimeoutMs = 30_000;
export const defaultMaxResponseBytes = 64 * 1024;

/** Makes one delivery attempt of `doc` to `deps.partner`; never throws. */
export async function postDocument(doc: OutboundDocument, deps: PostDeps): Promise<AttemptOutcome> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  const dead = (error: string, status?: number): AttemptOutcome => ({ kind: 'dead', ...(status !== undefined && { status }), durationMs: durationMs(), error });
  const retry = (error: string, status?: number, after?: number): AttemptOutcome => ({
    kind: 'retry',
    ...(status !== undefined && { status }),
    durationMs: durationMs(),
    error,
    ...(after !== undefined && { retryAfterSeconds: after }),
  });

  const { partner } = deps;
  if (doc.partner !== partner.id) return dead(`the document is for ${doc.partner}, not ${partner.id}`);
  const url = partner.delivery?.url;
  if (url === undefined) return dead(`${partner.id} has no delivery.url in the registry`);
  const urlProblem = partnerUrlProblem(url);
  if (urlProblem !== undefined) return dead(`${partner.id} delivery.url: ${urlProblem}`);
  // The receipt is compared with this digest: it must be the digest of what we send.
  if (bodyDigest(doc.body) !== doc.digest) return dead('the stored digest does not match the document bytes');

  let signature: string;
  try {
    const target = new URL(url);
    signature = signRequest({
      key: deps.signingKey(),
      iss: deps.gatewayId,
      aud: partner.id,
      method: 'POST',
      target: `${target.pathname}${target.search}`,
      body: doc.body,
      jti: doc.jti,
      iat: secondsOf(deps.clock),
      contentType: doc.contentType,
    });
  } catch (error) {
    // A RangeError is a document no verifier would take (bad jti); anything else is the
    // key (none may sign yet during a rotation), which time mends.
    const reason = `cannot sign the request: ${(error as Error).message}`;
    return error instanceof RangeError ? dead(reason) : retry(reason);
  }

  const timeoutMs = deps.timeoutMs ?? defaultTimeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const timedOut = () => retry(`no complete answer within ${timeoutMs} ms`);
  try {
    let response: Response;
    try {
      response = await (deps.fetch ?? globalThis.fetch)(url, {
        method: 'POST',
        headers: { 'Content-Type': doc.contentType, 'JWS-Signature': signature, Accept: 'application/json' },
        body: doc.body,
        // A redirect is an answer of its own (dead): the signature's htu names delivery.url only.
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch (error) {
      return controller.signal.aborted ? timedOut() : retry(`network error (${networkCause(error)})`);
    }
    const { status } = response;
    if (status === 408 || status === 429 || status >= 500) {
      await discard(response);
      return retry(`the partner answered ${status}`, status, retryAfterSeconds(response.headers.get('retry-after'), deps.clock()));
    }
    if (status !== 200 && status !== 202) return dead(await refusalOf(response, deps.maxResponseBytes ?? defaultMaxResponseBytes), status);

    let body: Buffer | undefined;
    try {
      body = await readCapped(response, deps.maxResponseBytes ?? defaultMaxResponseBytes);
    } catch (error) {
      return controller.signal.aborted ? timedOut() : retry(`network error while reading the answer (${networkCause(error)})`, status);
    }
    // Dead, not retry: a partner that took the document answers a resend with the same receipt.
    if (body === undefined) return dead(`the ${status} answer is larger than ${deps.maxResponseBytes ?? defaultMaxResponseBytes} bytes`, status);
    const answer = parseAnswer(body);
    if (typeof answer === 'string') return dead(`the ${status} answer ${answer}`, status);
    const verdict = await verifyPartnerReceipt(answer.receipt, { gatewayId: deps.gatewayId, partner, requestJti: doc.jti, digest: doc.digest, batchId: doc.batchId, sequence: doc.sequence }, deps.keyOf);
    if (!verdict.ok) return dead(verdict.reason, status);
    const { receipt } = verdict;
    if (receipt.exchangeId !== answer.exchangeId) return dead('the answer\'s exchangeId is not the receipt\'s', status);
    return {
      kind: 'delivered',
      status,
      durationMs: durationMs(),
      receipt: answer.receipt,
      exchangeId: receipt.exchangeId,
      disposition: receipt.disposition,
      ...(receipt.heldReason !== undefined && { heldReason: receipt.heldReason }),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `{exchangeId, receipt}` from a 200/202 body, or what is wrong with it. */
function parseAnswer(body: Buffer): { exchangeId: string; receipt: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'is not JSON';
  }
  const { exchangeId, receipt } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof exchangeId !== 'string' || typeof receipt !== 'string') return 'is not {"exchangeId", "receipt"} with two strings';
  return { exchangeId, receipt };
}

/** One line for a refusal: the status and, from a problem+json answer, its type (never the body itself). */
async function refusalOf(response: Response, maxBytes: number): Promise<string> {
  const { status } = response;
  const what = status >= 300 && status < 400 ? `the partner answered ${status}, a redirect (not followed: delivery.url must be the inbox itself)` : `the partner answered ${status}`;
  if (!/^application\/problem\+json\b/i.test(response.headers.get('content-type') ?? '')) {
    await discard(response);
    return what;
  }
  try {
    const body = await readCapped(response, Math.min(maxBytes, 16 * 1024));
    const type = body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as { type?: unknown }).type;
    return typeof type === 'string' && /^[\w:./-]{1,100}$/.test(type) ? `${what} (${type})` : what;
  } catch {
    return what;
  }
}

/** fetch says only "fetch failed"; its cause's code says why (refused, reset, DNS, TLS). */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = cause?.code ?? (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'connection failed';
}
