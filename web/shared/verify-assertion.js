// @ts-check
/**
 * Verifies a gateway-signed object (PROTOCOL.md §4: a compact JWS, `alg` ES256, EdDSA or
 * PS256, `kid` naming a key of the gateway's JWKS, `typ` checked) with WebCrypto alone,
 * so that a page can tell its reader "verified in your browser" and a Node test can run
 * the same code. Pure: the caller fetches the JWKS and supplies the clock.
 *
 * Failures are data, never exceptions: `{ ok: false, code, message }` with `code` from a
 * closed set, so callers switch on it and show `message` to people.
 */

/**
 * @typedef {'malformed' | 'alg-not-allowed' | 'wrong-typ' | 'unknown-key' | 'bad-signature' | 'expired' | 'not-yet-valid'} RefusalCode
 * @typedef {{ kty?: string, kid?: string, alg?: string, use?: string, crv?: string, x?: string, y?: string, n?: string, e?: string }} PublicJwk
 * @typedef {{ keys?: PublicJwk[] }} Jwks
 * @typedef {{ alg?: unknown, kid?: unknown, typ?: unknown, crit?: unknown, [member: string]: unknown }} ProtectedHeader
 * @typedef {Record<string, unknown>} Claims
 * @typedef {{ ok: true, kid: string, alg: string, header: ProtectedHeader, claims: Claims }} Verified
 * @typedef {{ ok: false, code: RefusalCode, message: string, header?: ProtectedHeader, claims?: Claims }} Refused
 * @typedef {Verified | Refused} Verification
 * @typedef {{ typ?: string, leewaySeconds?: number }} VerifyOptions
 */

/** The `typ` of a status assertion (PROTOCOL.md §5). */
export const STATUS_TYP = 'mra-status+jwt';

/**
 * Everything about one algorithm in one entry: which keys fit it, how WebCrypto imports
 * them, how it verifies, and the signature's fixed length (ES256 is raw r||s, 64 bytes).
 * @type {Record<string, { fits(jwk: PublicJwk): boolean, publicJwk(jwk: PublicJwk): JsonWebKey, importAs: EcKeyImportParams | RsaHashedImportParams | Algorithm, verifyAs: EcdsaParams | RsaPssParams | Algorithm, signatureBytes?: number }>}
 */
const algorithms = {
  ES256: {
    fits: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string',
    publicJwk: (jwk) => ({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }),
    importAs: { name: 'ECDSA', namedCurve: 'P-256' },
    verifyAs: { name: 'ECDSA', hash: 'SHA-256' },
    signatureBytes: 64,
  },
  EdDSA: {
    fits: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string',
    publicJwk: (jwk) => ({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }),
    importAs: { name: 'Ed25519' },
    verifyAs: { name: 'Ed25519' },
    signatureBytes: 64,
  },
  PS256: {
    fits: (jwk) => jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string',
    publicJwk: (jwk) => ({ kty: 'RSA', n: jwk.n, e: jwk.e }),
    importAs: { name: 'RSA-PSS', hash: 'SHA-256' },
    verifyAs: { name: 'RSA-PSS', saltLength: 32 },
  },
};

/** The algorithms the gateway signs with, and the only ones accepted. */
export const allowedAlgorithms = Object.freeze(Object.keys(algorithms));

/**
 * Verifies `jws` against `jwks` at `nowSeconds` (seconds since the epoch, as `exp`).
 * The header and claims are returned whenever they can be read, also on refusal, so a
 * page can show what the text claims next to why it is not to be trusted.
 * @param {string} jws a compact JWS
 * @param {Jwks} jwks the signer's published keys
 * @param {number} nowSeconds the current time in seconds since the epoch
 * @param {VerifyOptions} [options] `typ` (default mra-status+jwt), `leewaySeconds` for clock skew (default 0)
 * @returns {Promise<Verification>}
 */
export async function verifyAssertion(jws, jwks, nowSeconds, options = {}) {
  const typ = options.typ ?? STATUS_TYP;
  const leeway = options.leewaySeconds ?? 0;
  const parts = jws.trim().split('.');
  if (parts.length !== 3) return refuse('malformed', `A compact JWS has three parts separated by dots; this text has ${parts.length}.`);
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;

  const header = /** @type {ProtectedHeader | undefined} */ (readJson(headerPart));
  if (header === undefined) return refuse('malformed', 'The protected header is not base64url-encoded JSON.');
  const payload = readJson(payloadPart);
  const claims = payload === undefined ? undefined : /** @type {Claims} */ (payload);
  /** @param {RefusalCode} code @param {string} message @returns {Refused} */
  const refuseRead = (code, message) => ({ ...refuse(code, message), header, ...(claims !== undefined && { claims }) });

  const alg = header.alg;
  const entry = typeof alg === 'string' && Object.hasOwn(algorithms, alg) ? algorithms[alg] : undefined;
  if (typeof alg !== 'string' || entry === undefined) {
    return refuseRead('alg-not-allowed', `The algorithm ${JSON.stringify(alg ?? null)} is not one the gateway signs with (${allowedAlgorithms.join(', ')}).`);
  }
  if (header.crit !== undefined) return refuseRead('malformed', 'The header names critical extensions ("crit"), which no gateway-signed object uses.');
  if (header.typ !== typ) return refuseRead('wrong-typ', `The type is ${JSON.stringify(header.typ ?? null)}, not "${typ}".`);
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') return refuseRead('unknown-key', 'The header names no key ("kid").');
  const jwk = (Array.isArray(jwks?.keys) ? jwks.keys : []).find((k) => k.kid === kid);
  if (jwk === undefined) return refuseRead('unknown-key', `The key "${kid}" is not among the published keys.`);
  if ((jwk.alg !== undefined && jwk.alg !== alg) || (jwk.use !== undefined && jwk.use !== 'sig') || !entry.fits(jwk)) {
    return refuseRead('unknown-key', `The published key "${kid}" is not a ${alg} signing key.`);
  }

  const signature = base64urlBytes(signaturePart);
  if (signature === undefined || signature.length === 0 || (entry.signatureBytes !== undefined && signature.length !== entry.signatureBytes)) {
    return refuseRead('bad-signature', 'The signature does not match the content: it was altered, or made with another key.');
  }
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return refuseRead('bad-signature', 'This browser offers no WebCrypto (crypto.subtle), so the signature cannot be checked.');
  let valid;
  try {
    const key = await subtle.importKey('jwk', entry.publicJwk(jwk), entry.importAs, false, ['verify']);
    valid = await subtle.verify(entry.verifyAs, key, signature, new TextEncoder().encode(`${headerPart}.${payloadPart}`));
  } catch {
    return refuseRead('unknown-key', `The published key "${kid}" cannot be used to verify ${alg} in this browser.`);
  }
  if (!valid) return refuseRead('bad-signature', 'The signature does not match the content: it was altered, or made with another key.');

  if (claims === undefined || typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return refuseRead('malformed', 'The signed payload is not a JSON object.');
  }
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return refuseRead('malformed', 'The payload has no expiry ("exp").');
  if (nowSeconds >= exp + leeway) return refuseRead('expired', `It expired at ${isoTime(exp)}.`);
  if (typeof iat === 'number' && iat > nowSeconds + leeway + 60) return refuseRead('not-yet-valid', `It claims to be issued at ${isoTime(iat)}, in the future.`);
  return { ok: true, kid, alg, header, claims };
}

/**
 * @param {RefusalCode} code
 * @param {string} message
 * @returns {Refused}
 */
function refuse(code, message) {
  return { ok: false, code, message };
}

/**
 * Strict base64url (RFC 7515: no padding, no other characters) to bytes.
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer> | undefined}
 */
export function base64urlBytes(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A base64url part read as UTF-8 JSON object, or undefined.
 * @param {string} part
 * @returns {Record<string, unknown> | undefined}
 */
function readJson(part) {
  const bytes = base64urlBytes(part);
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seconds since the epoch as an RFC 3339 UTC time.
 * @param {number} seconds
 * @returns {string}
 */
export function isoTime(seconds) {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace('.000Z', 'Z');
}
