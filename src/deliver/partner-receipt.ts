/**
 * Checking a partner's receipt for a delivery (PROTOCOL.md §4, §7): a compact JWS, typ
 * `mra-receipt+jwt`, signed by one of the partner's REGISTERED keys under one of its
 * allowed algorithms, whose claims answer exactly our request. The header is checked
 * before jose sees it, since jose lets embedded keys, duplicate names and extra
 * members through (FIELD-NOTES "What jose does not check for us").
 */
import { compactVerify } from 'jose';
import { RECEIPT_TYP } from '../intake/receipt.ts';
import { duplicateMembers } from '../parse/json-duplicates.ts';
import type { Partner, PublicJwk } from '../registry/partner.ts';
import { canonicalAlgorithm, keyMismatch, publicKeyOf } from '../verify/signature.ts';

/** What the receipt must say: the request it answers. */
export interface ExpectedReceipt {
  gatewayId: string;
  /** The receipt's `iss` and the owner of the key that signed it. */
  partner: Partner;
  requestJti: string;
  digest: string;
  batchId: string;
  sequence: number;
}

/** A partner's key by kid, from its registry entry only (PartnerDirectory.key). */
export type PartnerKeyLookup = (partnerId: string, kid: string) => Promise<PublicJwk | undefined>;

/** The claims a delivery keeps of a verified receipt. */
export interface PartnerReceipt {
  exchangeId: string;
  disposition: 'accepted' | 'held' | 'stale';
  heldReason?: string;
  claims: Record<string, unknown>;
}

export type ReceiptVerdict = { ok: true; receipt: PartnerReceipt } | { ok: false; reason: string };

/** Members a receipt header may hold: a key or key URL (jwk, jku, x5c, x5u) is never trusted. */
const headerMembers = new Set(['alg', 'kid', 'typ', 'cty']);
const dispositions = new Set(['accepted', 'held', 'stale']);
const compact = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Verifies `token` as the partner's receipt for the expected request; the reason of a refusal never quotes more than a short value. */
export async function verifyPartnerReceipt(token: string, expected: ExpectedReceipt, keyOf: PartnerKeyLookup): Promise<ReceiptVerdict> {
  if (token.length > 16 * 1024 || !compact.test(token)) return refuse('the receipt is not a compact JWS');
  const header = parseObject(token.slice(0, token.indexOf('.')));
  if (typeof header === 'string') return refuse(`receipt header: ${header}`);
  const extra = Object.keys(header).find((name) => !headerMembers.has(name));
  if (extra !== undefined) return refuse(`receipt header: member ${short(extra)} is not accepted`);
  if (header['typ'] !== RECEIPT_TYP) return refuse(`receipt header: typ must be ${RECEIPT_TYP}`);
  const { alg, kid } = header;
  if (typeof alg !== 'string' || typeof kid !== 'string') return refuse('receipt header: alg and kid must be strings');

  const { partner } = expected;
  const canonical = canonicalAlgorithm(alg);
  if (canonical === undefined || !partner.keys.algorithms.some((a) => canonicalAlgorithm(a) === canonical)) {
    return refuse(`receipt alg ${short(alg)} is not among the partner's allowed algorithms`);
  }
  const jwk = await keyOf(partner.id, kid);
  if (jwk === undefined || jwk.kid !== kid) return refuse(`receipt kid ${short(kid)} is not a key registered for ${partner.id}`);
  if (jwk.alg !== undefined && canonicalAlgorithm(jwk.alg) !== canonical) return refuse(`receipt alg ${alg} is not the alg of the registered key ${short(kid)}`);
  let claimsBytes: Uint8Array;
  try {
    const key = publicKeyOf(jwk);
    const mismatch = keyMismatch(key, canonical);
    if (mismatch !== undefined) return refuse(`receipt key: ${mismatch}`);
    ({ payload: claimsBytes } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch {
    return refuse('the receipt signature does not verify with the registered key');
  }
  const claims = parseObject(Buffer.from(claimsBytes).toString('base64url'));
  if (typeof claims === 'string') return refuse(`receipt claims: ${claims}`);
  return checkClaims(claims, expected);
}

/** The claims §7 requires to answer our request, and the rest of §4 that we can hold them to. */
function checkClaims(claims: Record<string, unknown>, expected: ExpectedReceipt): ReceiptVerdict {
  const must: [string, unknown][] = [
    ['iss', expected.partner.id],
    ['aud', expected.gatewayId],
    ['requestJti', expected.requestJti],
    ['digest', expected.digest],
  ];
  for (const [name, value] of must) {
    if (claims[name] !== value) return refuse(`receipt ${name} is ${shortValue(claims[name])}, expected ${String(value)}`);
  }
  // Optional to us, but a receipt that names another batch answers another document.
  if (claims['batchId'] !== undefined && claims['batchId'] !== expected.batchId) return refuse(`receipt batchId is ${shortValue(claims['batchId'])}, expected ${expected.batchId}`);
  if (claims['sequence'] !== undefined && claims['sequence'] !== expected.sequence) return refuse(`receipt sequence is ${shortValue(claims['sequence'])}, expected ${expected.sequence}`);
  const { exchangeId, disposition, heldReason } = claims;
  if (typeof exchangeId !== 'string' || exchangeId === '' || exchangeId.length > 128) return refuse('receipt exchangeId must be a string of 1 to 128 characters');
  if (typeof disposition !== 'string' || !dispositions.has(disposition)) return refuse(`receipt disposition is ${shortValue(disposition)}, expected accepted, held or stale`);
  if (heldReason !== undefined && (typeof heldReason !== 'string' || !/^[a-z0-9-]{1,64}$/.test(heldReason))) return refuse('receipt heldReason must be a slug');
  return {
    ok: true,
    receipt: { exchangeId, disposition: disposition as PartnerReceipt['disposition'], ...(typeof heldReason === 'string' && disposition === 'held' && { heldReason }), claims },
  };
}

/** A base64url JSON object, strictly: UTF-8, no duplicate names. A string is the reason it is not one. */
function parseObject(part: string): Record<string, unknown> | string {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(part, 'base64url'));
  } catch {
    return 'not UTF-8';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const duplicate = duplicateMembers(text, 1)[0];
  if (duplicate !== undefined) return `names ${short(duplicate.join('.'))} more than once`;
  return value as Record<string, unknown>;
}

// Values come from the partner: quoted and cut short, so an error stays one line and never carries a document.
function short(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function shortValue(value: unknown): string {
  if (value === undefined) return 'missing';
  return typeof value === 'string' ? short(value) : short(JSON.stringify(value) ?? String(value));
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
