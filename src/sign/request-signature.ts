/**
 * The JWS-Signature header of a request we send (PROTOCOL.md §2): the command line's
 * `sign`/`send` and the gateway's own deliveries to partners (§7). It is the exact
 * counterpart of src/verify: same members, same algorithm table, so whatever this
 * makes, the verifier (ours or a partner's) accepts.
 */
import { createPrivateKey, createSign, randomUUID, sign as oneShotSign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { criticalMembers, requestTyp } from '../verify/protected-header.ts';
import { algorithms, canonicalAlgorithm, keyMismatch, pssOptions } from '../verify/signature.ts';

/** A private JWK and the algorithm it signs with. */
export interface SigningKey {
  privateJwk: JsonWebKey & { kid: string };
  alg: 'ES256' | 'ES384' | 'EdDSA' | 'PS256';
}

/** What a request signature covers. */
export interface SignRequestInput {
  key: SigningKey;
  iss: string;
  aud: string;
  /** The method exactly as it goes on the request line (upper case). */
  method: string;
  /** Path and query in origin form, exactly as on the request line. */
  target: string;
  /** The body bytes exactly as sent (empty for a GET). */
  body: Uint8Array;
  jti?: string;
  iat?: number;
  /** The body's media type, sent as `cty`. */
  contentType?: string;
}

const jtiSyntax = /^[A-Za-z0-9._-]{1,128}$/;

// One import per private JWK object: signing many deliveries with one key is the norm.
const keyCache = new WeakMap<JsonWebKey, KeyObject>();

/** Builds `BASE64URL(header)..BASE64URL(signature)` over the exact body bytes (detached, b64:false), header members exactly per §2, typ 'mra-request+jws', jti random if not given, iat now if not given. */
export function signRequest(input: SignRequestInput): string {
  const { key, body } = input;
  const privateKey = privateKeyOf(key);
  const header = buildHeader(input);
  const headerPart = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  const signingInput = Buffer.from(`${headerPart}.`, 'ascii');
  const params = algorithms[key.alg];
  let signature: Buffer;
  if (params.hash === null) {
    // Ed25519 signs the whole message at once (no incremental PureEdDSA in node:crypto).
    signature = oneShotSign(null, Buffer.concat([signingInput, body]), privateKey);
  } else {
    // Fed in two pieces, so a large body is never copied into one signing input.
    const signer = createSign(params.hash);
    signer.update(signingInput);
    signer.update(body);
    signature = key.alg === 'PS256' ? signer.sign({ key: privateKey, ...pssOptions }) : signer.sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  }
  return `${headerPart}..${signature.toString('base64url')}`;
}

/** The protected header, members in the order of §2's table. */
function buildHeader(input: SignRequestInput): Record<string, unknown> {
  const jti = input.jti ?? randomUUID();
  const iat = input.iat ?? Math.floor(Date.now() / 1000);
  // Refuse here what every verifier would refuse: a clear error beats a 401 from afar.
  if (!jtiSyntax.test(jti)) throw new RangeError('jti must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_" and "-"');
  if (!Number.isSafeInteger(iat)) throw new RangeError('iat must be an integer NumericDate');
  if (input.method === '' || input.method !== input.method.toUpperCase()) throw new RangeError('method must be upper case, as on the request line');
  if (!input.target.startsWith('/')) throw new RangeError('target must be a path and query in origin form (starting with "/"), never a URL');
  const header: Record<string, unknown> = {
    alg: input.key.alg,
    kid: input.key.privateJwk.kid,
    b64: false,
    crit: [...criticalMembers],
    iss: input.iss,
    aud: input.aud,
    iat,
    jti,
    htm: input.method,
    htu: input.target,
    typ: requestTyp,
  };
  if (input.contentType !== undefined) header['cty'] = input.contentType;
  return header;
}

/** The private key, imported once, checked to be the kind `alg` needs. */
function privateKeyOf(key: SigningKey): KeyObject {
  let privateKey = keyCache.get(key.privateJwk);
  if (privateKey === undefined) {
    privateKey = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
    keyCache.set(key.privateJwk, privateKey);
  }
  const jwkAlg = key.privateJwk['alg'];
  if (typeof jwkAlg === 'string' && canonicalAlgorithm(jwkAlg) !== key.alg) throw new RangeError(`the key ${key.privateJwk.kid} is for ${jwkAlg}, not ${key.alg}`);
  const mismatch = keyMismatch(privateKey, key.alg);
  if (mismatch !== undefined) throw new RangeError(`the key ${key.privateJwk.kid} cannot sign: ${mismatch}`);
  return privateKey;
}
