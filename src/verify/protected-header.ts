/**
 * Step 1 of PROTOCOL.md §2: the syntax of the JWS-Signature value and of its protected
 * header, checked before any key is looked at. jose lets extra members, duplicate names
 * and padded base64url through (FIELD-NOTES "What jose does not check for us"), so
 * nothing here relies on it.
 */
import { duplicateMembers } from '../parse/json-duplicates.ts';

/** The protected header of a request that passed every check of §2. */
export interface ProtectedHeader {
  alg: 'ES256' | 'ES384' | 'EdDSA' | 'Ed25519' | 'PS256';
  kid: string;
  b64: false;
  crit: string[];
  iss: string;
  aud: string;
  iat: number;
  jti: string;
  htm: string;
  htu: string;
  typ?: string;
  cty?: string;
}

/** A header that passed step 1: every member well-formed, `alg` not yet checked against the allow-list (step 3). */
export type SyntacticHeader = Omit<ProtectedHeader, 'alg'> & { alg: string };

/** The value of JWS-Signature taken apart, or why its syntax is wrong. */
export type ParsedSignatureHeader =
  | { ok: true; header: SyntacticHeader; signingInput: Buffer; signature: Buffer }
  | { ok: false; detail: string };

/** Upper bound of the whole JWS-Signature value (§2). */
export const maxSignatureHeaderLength = 8 * 1024;

/** The `crit` list must hold exactly these, in any order (§2). */
export const criticalMembers: readonly string[] = ['b64', 'iss', 'aud', 'iat', 'jti', 'htm', 'htu'];

/** The `typ` value, when present (§2). */
export const requestTyp = 'mra-request+jws';

const requiredMembers = ['alg', 'kid', 'b64', 'crit', 'iss', 'aud', 'iat', 'jti', 'htm', 'htu'] as const;
const optionalMembers = ['typ', 'cty'] as const;
const allowedMembers = new Set<string>([...requiredMembers, ...optionalMembers]);
const stringMembers = ['alg', 'kid', 'iss', 'aud', 'htm', 'htu'] as const;

const base64url = /^[A-Za-z0-9_-]+$/;
const jtiSyntax = /^[A-Za-z0-9._-]{1,128}$/;
// fatal: invalid UTF-8 fails instead of turning into U+FFFD; ignoreBOM: a BOM stays in
// the text, where JSON.parse refuses it, rather than being silently dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Takes a JWS-Signature value apart (step 1 of §2): `BASE64URL(header)..BASE64URL(signature)` with a header exactly per §2. */
export function parseSignatureHeader(value: string | undefined): ParsedSignatureHeader {
  if (value === undefined || value === '') return fail('the request has no JWS-Signature header');
  if (value.length > maxSignatureHeaderLength) return fail(`the JWS-Signature header is longer than ${maxSignatureHeaderLength} characters`);
  const parts = value.split('.');
  if (parts.length !== 3) return fail('the JWS-Signature header must have three parts, protected header, empty payload and signature (BASE64URL(header)..BASE64URL(signature))');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (payloadPart !== '') return fail('the payload part of the JWS-Signature header must be empty (detached payload)');
  if (headerPart === '') return fail('the protected header part of the JWS-Signature header is empty');
  if (signaturePart === '') return fail('the signature part of the JWS-Signature header is empty');
  const headerBytes = decodeBase64url(headerPart);
  if (headerBytes === undefined) return fail('the protected header part is not unpadded base64url');
  const signature = decodeBase64url(signaturePart);
  if (signature === undefined) return fail('the signature part is not unpadded base64url');
  const header = parseHeaderJson(headerBytes);
  if (typeof header === 'string') return fail(header);
  // The signing input is the header part exactly as sent, never a re-encoding of it.
  return { ok: true, header, signingInput: Buffer.from(`${headerPart}.`, 'ascii'), signature };
}

/** Strict unpadded base64url: the alphabet only, no `=`, and the canonical encoding of what it decodes to. */
function decodeBase64url(part: string): Buffer | undefined {
  if (!base64url.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  // Node's decoder is lenient (a dangling character or non-zero spare bits decode
  // anyway); requiring the round trip makes each byte string have one spelling.
  return bytes.toString('base64url') === part ? bytes : undefined;
}

/** The header members checked one by one; a string is the reason they fail. */
function parseHeaderJson(bytes: Buffer): SyntacticHeader | string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'the protected header is not UTF-8';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the protected header is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the protected header is not a JSON object';
  // JSON.parse keeps the last of two equal names; another reader might keep the first.
  const duplicate = duplicateMembers(text, 1)[0];
  if (duplicate !== undefined) return `the protected header names ${quote(duplicate.join('.'))} more than once`;
  const h = parsed as Record<string, unknown>;
  for (const name of Object.keys(h)) {
    if (!allowedMembers.has(name)) return `the protected header has a member ${quote(name)}, which is not allowed`;
  }
  for (const name of requiredMembers) {
    if (!Object.hasOwn(h, name)) return `the protected header lacks the member ${name}`;
  }
  for (const name of stringMembers) {
    if (typeof h[name] !== 'string') return `the protected header member ${name} must be a string`;
  }
  if (typeof h['iat'] !== 'number' || !Number.isSafeInteger(h['iat'])) return 'the protected header member iat must be an integer NumericDate';
  if (h['b64'] !== false) return 'the protected header member b64 must be false';
  if (!criticalList(h['crit'])) return `the protected header member crit must list exactly ${criticalMembers.join(', ')}, each once`;
  if (typeof h['jti'] !== 'string' || !jtiSyntax.test(h['jti'])) return 'the protected header member jti must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_" and "-"';
  if (Object.hasOwn(h, 'typ') && h['typ'] !== requestTyp) return `the protected header member typ must be ${requestTyp} when present`;
  if (Object.hasOwn(h, 'cty') && typeof h['cty'] !== 'string') return 'the protected header member cty must be a string when present';
  return toHeader(h);
}

function criticalList(crit: unknown): boolean {
  if (!Array.isArray(crit) || crit.length !== criticalMembers.length) return false;
  const seen = new Set<unknown>(crit);
  return seen.size === crit.length && criticalMembers.every((name) => seen.has(name));
}

/** Copies the checked members into a fresh object, so nothing else of the parsed JSON travels on. */
function toHeader(h: Record<string, unknown>): SyntacticHeader {
  const header: SyntacticHeader = {
    alg: h['alg'] as string,
    kid: h['kid'] as string,
    b64: false,
    crit: [...(h['crit'] as string[])],
    iss: h['iss'] as string,
    aud: h['aud'] as string,
    iat: h['iat'] as number,
    jti: h['jti'] as string,
    htm: h['htm'] as string,
    htu: h['htu'] as string,
  };
  if (typeof h['typ'] === 'string') header.typ = h['typ'];
  if (typeof h['cty'] === 'string') header.cty = h['cty'];
  return header;
}

// Member names come from the caller: quote them and cut them short, so a detail stays
// one readable sentence whatever was sent.
function quote(name: string): string {
  const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
  return JSON.stringify(shown);
}

function fail(detail: string): { ok: false; detail: string } {
  return { ok: false, detail };
}
