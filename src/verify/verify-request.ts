/**
 * Verification of a signed request (PROTOCOL.md §2), in the numbered order of checks:
 * the first failure decides the answer. The head (steps 1–6) is judged before any body
 * byte is read, so a request that cannot succeed is refused without buffering it; the
 * signature (step 8) is then checked as the body streams in.
 */
import type { Partner, PartnerDirectory, PublicJwk } from '../registry/partner.ts';
import { mediaTypeAccepted } from './media-type.ts';
import { parseSignatureHeader, type ProtectedHeader } from './protected-header.ts';
import { canonicalAlgorithm, keyMismatch, publicKeyOf, signatureCheck, type CanonicalAlgorithm } from './signature.ts';

export type { ProtectedHeader } from './protected-header.ts';

/** The problem slugs a refused request gets (§3 table), one per check of §2. */
export type VerifySlug =
  | 'header-invalid'
  | 'unknown-key'
  | 'alg-not-allowed'
  | 'audience-mismatch'
  | 'htm-mismatch'
  | 'htu-mismatch'
  | 'iat-out-of-window'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'signature-invalid'
  | 'partner-suspended';

/** What the verifier knows of its surroundings: the gateway's id, the registry, the clock. */
export interface VerifyContext {
  /** Expected `aud`. */
  gatewayId: string;
  /** Keys come ONLY from here. */
  partners: PartnerDirectory;
  /** The receiver's clock when the request headers arrived (injected: tests use the vectors' `now`). */
  nowSeconds: number;
  /** Allowed distance of `iat` from `nowSeconds`, both ways (default 300 in config). */
  iatSkewSeconds: number;
  /** The media type the partner's format requires (e.g. 'application/xml'); only asked for a request with a body. */
  expectedMediaType: (partner: Partner) => string;
}

/** The parts of an HTTP request the head checks read. */
export interface RequestHead {
  /** The JWS-Signature header value (undefined if missing). */
  signature: string | undefined;
  /** As on the request line. */
  method: string;
  /** Request-target in origin form (path + query), PUBLIC_BASE_PATH already removed. */
  target: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** False for GET: step 6 is skipped. */
  hasBody: boolean;
}

/** The outcome of steps 1–6: what step 8 needs, or the slug of the first failed check. */
export type HeadVerdict =
  | { ok: true; header: ProtectedHeader; partner: Partner; key: PublicJwk; signingInput: Buffer /* ASCII of BASE64URL(header) + '.' */; signature: Buffer }
  | { ok: false; slug: VerifySlug; detail: string };

/** The outcome of every check of a whole request. */
export type RequestVerdict = { ok: true; header: ProtectedHeader; partner: Partner } | { ok: false; slug: VerifySlug; detail: string };

/** Steps 1–6 of PROTOCOL §2, in order, the first failure decides. */
export async function verifyHead(head: RequestHead, ctx: VerifyContext): Promise<HeadVerdict> {
  // 1. Syntax of the value and of the protected header.
  const parsed = parseSignatureHeader(head.signature);
  if (!parsed.ok) return refuse('header-invalid', parsed.detail);
  const { header } = parsed;

  // 2. The key, from the registry entry of the partner named by iss and from no other
  //    (one detail for an unknown partner and an unknown kid: nothing is revealed).
  const partner = ctx.partners.partner(header.iss);
  const key = partner === undefined ? undefined : await ctx.partners.key(partner.id, header.kid);
  if (partner === undefined || key === undefined || key.kid !== header.kid) return refuse('unknown-key', 'the kid is not a key registered for the partner named by iss');

  // 3. The algorithm, allowed for the partner and bound to the key.
  const algProblem = algorithmProblem(header.alg, partner, key);
  if (algProblem !== undefined) return refuse('alg-not-allowed', algProblem);
  const checked: ProtectedHeader = { ...header, alg: header.alg as ProtectedHeader['alg'] };

  // 4. Addressed to this gateway, for this method and request-target.
  if (header.aud !== ctx.gatewayId) return refuse('audience-mismatch', `aud does not name this gateway (${ctx.gatewayId})`);
  if (header.htm !== head.method) return refuse('htm-mismatch', 'htm is not the method of this request');
  if (header.htu !== head.target) return refuse('htu-mismatch', 'htu is not the request-target of this request (path and query, exactly as on the request line)');

  // 5. Fresh: both a stale and a future iat fail.
  const drift = header.iat - ctx.nowSeconds;
  if (Math.abs(drift) > ctx.iatSkewSeconds) {
    const side = drift < 0 ? 'behind' : 'ahead of';
    return refuse('iat-out-of-window', `iat is ${Math.abs(drift)} s ${side} the gateway's clock; at most ${ctx.iatSkewSeconds} s is allowed`);
  }

  // 6. The body's media type (a request without a body has none to check).
  if (head.hasBody) {
    const expected = ctx.expectedMediaType(partner);
    if (!mediaTypeAccepted(head.contentType, head.contentEncoding, expected)) {
      return refuse('unsupported-media-type', `the body must be ${expected} (charset utf-8 if any), without a Content-Encoding other than identity`);
    }
    // A signed cty is the signer's own statement of the body's media type: it must say the same.
    if (checked.cty !== undefined && !mediaTypeAccepted(checked.cty, undefined, expected)) {
      return refuse('unsupported-media-type', `the signed cty says ${checked.cty}, but the body must be ${expected}`);
    }
  }
  return { ok: true, header: checked, partner, key, signingInput: parsed.signingInput, signature: parsed.signature };
}

/**
 * Step 8 as a stream: feed the body chunks as they arrive, then verify. Memory bounded:
 * ES256/ES384/PS256 hash each chunk as it comes (node:crypto createVerify). Ed25519
 * cannot be hashed incrementally (PureEdDSA): its chunks are kept and verified in one
 * crypto.verify(null, …) over the concatenation, bounded by the partner's body limit.
 */
export function createSignatureCheck(verdict: Extract<HeadVerdict, { ok: true }>): { update(chunk: Uint8Array): void; verify(): boolean } {
  return signatureCheck(canonicalOf(verdict.header.alg), publicKeyOf(verdict.key), verdict.signingInput, verdict.signature);
}

/** Everything in order for a whole request held in memory (the vectors, GET requests): steps 1–6, 7 (size against partner.limits.maxBodyBytes), 8, 9 (partner suspended, only after a valid signature). */
export async function verifyRequest(head: RequestHead, body: Uint8Array, ctx: VerifyContext): Promise<RequestVerdict> {
  const verdict = await verifyHead(head, ctx);
  if (!verdict.ok) return verdict;
  const { header, partner } = verdict;

  // 7. Size, against this partner's limit.
  if (body.byteLength > partner.limits.maxBodyBytes) return refuse('payload-too-large', `the body is larger than the partner's limit of ${partner.limits.maxBodyBytes} bytes`);

  // 8. The signature over the header part, '.', and the body exactly as received.
  const check = createSignatureCheck(verdict);
  check.update(body);
  if (!check.verify()) return refuse('signature-invalid', 'the signature does not verify over the protected header and the body as received');

  // 9. Suspension, told only to a caller that proved who it is.
  if (partner.status === 'suspended') return refuse('partner-suspended', 'the partner is suspended in the registry');
  return { ok: true, header, partner };
}

/**
 * Step 3: why the header's alg may not be used, or undefined when the profile allows it
 * (`Ed25519` folded into `EdDSA`), the partner's entry lists it, the registered JWK's own
 * `alg` (if any) agrees and the key is of the kind the algorithm needs.
 */
function algorithmProblem(alg: string, partner: Partner, jwk: PublicJwk): string | undefined {
  const canonical = canonicalAlgorithm(alg);
  // The alg is the caller's text: never echo it beyond a short, quoted form.
  if (canonical === undefined) return `alg ${JSON.stringify(alg.slice(0, 20))} is never allowed; use ES256, ES384, EdDSA or PS256`;
  if (!partner.keys.algorithms.some((a) => canonicalAlgorithm(a) === canonical)) return `alg ${alg} is not among the partner's allowed algorithms`;
  if (jwk.alg !== undefined && canonicalAlgorithm(jwk.alg) !== canonical) return `the key with this kid is registered for another alg than ${alg}`;
  try {
    return keyMismatch(publicKeyOf(jwk), canonical);
  } catch {
    // A registered JWK that node:crypto cannot import fits no algorithm.
    return `the key with this kid cannot be used with ${alg}`;
  }
}

function canonicalOf(alg: ProtectedHeader['alg']): CanonicalAlgorithm {
  return alg === 'Ed25519' ? 'EdDSA' : alg;
}

function refuse(slug: VerifySlug, detail: string): { ok: false; slug: VerifySlug; detail: string } {
  return { ok: false, slug, detail };
}
