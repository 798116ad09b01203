/**
 * Status assertions from the command line: ask the gateway (anonymous, as a partner, or
 * as staff) and verify what it signed; verify an assertion offline; mint a development
 * staff token.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { verifyGatewaySigned } from '../keys/gateway-keys.ts';
import type { PublicJwk } from '../registry/partner.ts';
import { signRequest } from '../sign/request-signature.ts';
import { mintDevStaffToken } from '../staff/dev-issuer.ts';
import { STATUS_TYP } from '../status/answer.ts';
import { parseSubject } from '../status/schemes.ts';
import { exitCodes, readAll, type CommandIo } from './io.ts';
import { loadSigningKey } from './key-files.ts';

// PROTOCOL §5: an assertion is valid for at most 24 hours.
const maxLifetimeSeconds = 86_400;
// An iat this far ahead of our clock is the gateway's clock, not a forgery; beyond it, refuse.
const clockSkewSeconds = 300;

export interface StatusCommandOptions {
  scheme: string;
  id: string;
  /** The gateway's base URL, with its PUBLIC_BASE_PATH if any (`https://gw.example/mra`). */
  url: string;
  /** Sign the request as a partner: private key file and party id. */
  key?: string | undefined;
  iss?: string | undefined;
  /** Ask as staff with this bearer token. */
  token?: string | undefined;
  /** The gateway's party id: the signature's aud, and the iss the assertion must carry. */
  aud: string;
  /** Seconds since the epoch; injected by tests. */
  nowSeconds?: () => number;
}

/** `mragw status SCHEME ID`: fetches /v1/status/…, verifies the assertion against the gateway's JWKS, prints subject and claims (0); 1 on 404 or refusal; 2 if the assertion does not verify. */
export async function statusCommand(options: StatusCommandOptions, io: CommandIo): Promise<number> {
  if (options.key !== undefined && options.token !== undefined) return usage(io, 'status', '--key and --token are alternatives: ask as a partner or as staff');
  if (options.key !== undefined && !options.iss) return usage(io, 'status', '--key needs --iss, your party id');
  const base = options.url.replace(/\/+$/, '');
  // Ids in paths are percent-encoded with upper-case hex, `/` as %2F (PROTOCOL §2).
  const target = `/v1/status/${encodeURIComponent(options.scheme)}/${encodeURIComponent(options.id)}`;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.key !== undefined) {
    const key = await loadSigningKey(options.key);
    headers['JWS-Signature'] = signRequest({ key, iss: options.iss!, aud: options.aud, method: 'GET', target, body: new Uint8Array(0) });
  }
  if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`;

  const response = await fetch(`${base}${target}`, { headers });
  const text = await response.text();
  if (response.status !== 200) {
    io.stderr.write(`mragw status: the gateway answered ${response.status}\n`);
    io.stdout.write(`${text}\n`);
    return exitCodes.someRejected;
  }
  let body: { subject?: unknown; assertion?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return invalid(io, 'status', 'the answer is not JSON');
  }
  if (typeof body.assertion !== 'string' || typeof body.subject !== 'object' || body.subject === null) return invalid(io, 'status', 'the answer has no subject and assertion');

  const jwksUrl = `${base}/.well-known/jwks.json`;
  // Outside the try: a JWKS that cannot be fetched is a failure, not an assertion that does not verify.
  const jwks = await readJwks(jwksUrl);
  let claims: Record<string, unknown>;
  try {
    claims = await verifyGatewaySigned(body.assertion, jwks, STATUS_TYP);
  } catch (error) {
    return invalid(io, 'status', `the assertion does not verify against ${jwksUrl}: ${(error as Error).message}`);
  }
  const parsed = parseSubject(options.scheme, options.id);
  const problems = assertionProblems(claims, now(options.nowSeconds), { iss: options.aud, ...(parsed && { sub: `${parsed.scheme}:${parsed.id}` }) });
  const { iss: _iss, iat: _iat, exp: _exp, ...members } = claims;
  if (!isDeepStrictEqual(members, body.subject)) problems.push('the subject is not the assertion\'s claims less iss, iat and exp');
  if (problems.length > 0) return invalid(io, 'status', `the assertion does not fit this request: ${problems.join('; ')}`);
  io.stdout.write(`${JSON.stringify({ subject: body.subject, claims }, null, 2)}\n`);
  return exitCodes.ok;
}

/** `mragw verify-status --jwks FILE|URL [ASSERTION]`: offline verification (typ mra-status+jwt, exp not passed); prints the claims (0), or 2 if it does not verify. */
export async function verifyStatusCommand(options: { jwks: string; assertion?: string | undefined; nowSeconds?: () => number }, io: CommandIo): Promise<number> {
  const token = (options.assertion ?? (await readAll(io.stdin, 1 << 20, '<stdin>')).toString('utf8')).trim();
  const jwks = await readJwks(options.jwks);
  let claims: Record<string, unknown>;
  try {
    claims = await verifyGatewaySigned(token, jwks, STATUS_TYP);
  } catch (error) {
    return invalid(io, 'verify-status', `the assertion does not verify: ${(error as Error).message}`);
  }
  const problems = assertionProblems(claims, now(options.nowSeconds), {});
  if (problems.length > 0) return invalid(io, 'verify-status', problems.join('; '));
  io.stdout.write(`${JSON.stringify(claims, null, 2)}\n`);
  return exitCodes.ok;
}

/** `mragw staff-token --sub NAME [--role …]`: a development staff token from DATA_DIR's dev issuer (role `reviewer` when none is given). */
export async function staffTokenCommand(options: { dataDir: string; subject: string; roles: string[]; ttlSeconds: number }, io: CommandIo): Promise<number> {
  const roles = options.roles.length === 0 ? ['reviewer'] : options.roles;
  let token: string;
  try {
    token = await mintDevStaffToken(options.dataDir, { subject: options.subject, roles, ttlSeconds: options.ttlSeconds });
  } catch (error) {
    if (error instanceof RangeError) return usage(io, 'staff-token', error.message);
    throw error;
  }
  io.stderr.write(
    `development staff token for ${options.subject} (${roles.join(', ')}), valid ${options.ttlSeconds} s: accepted only by a gateway started with MRAGW_DEV_STAFF=1 on a loopback HOST and DATA_DIR ${options.dataDir}\n`,
  );
  io.stdout.write(`${token}\n`);
  return exitCodes.ok;
}

/** What is wrong with an assertion's time and party claims (empty when nothing). */
function assertionProblems(claims: Record<string, unknown>, nowSeconds: number, expected: { iss?: string; sub?: string }): string[] {
  const problems: string[] = [];
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat)) problems.push('iat is not an integer');
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) problems.push('exp is not an integer');
  if (typeof iat === 'number' && typeof exp === 'number') {
    if (exp <= iat || exp - iat > maxLifetimeSeconds) problems.push(`exp must be after iat and at most ${maxLifetimeSeconds} s later`);
    if (iat > nowSeconds + clockSkewSeconds) problems.push('iat is in the future');
    if (exp <= nowSeconds) problems.push(`the assertion expired at ${new Date(exp * 1000).toISOString()}`);
  }
  for (const [name, value] of Object.entries(expected)) {
    if (claims[name] !== value) problems.push(`${name} is ${JSON.stringify(claims[name] ?? null)}, expected ${value}`);
  }
  return problems;
}

/** A JWKS from a file or an http(s) URL. */
async function readJwks(source: string): Promise<{ keys: PublicJwk[] }> {
  if (/^https?:\/\//i.test(source)) {
    const response = await fetch(source, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${source} answered ${response.status}`);
    return (await response.json()) as { keys: PublicJwk[] };
  }
  return JSON.parse(readFileSync(source, 'utf8')) as { keys: PublicJwk[] };
}

function now(clock: (() => number) | undefined): number {
  return clock === undefined ? Math.floor(Date.now() / 1000) : clock();
}

function invalid(io: CommandIo, command: string, message: string): number {
  io.stderr.write(`mragw ${command}: ${message}\n`);
  return exitCodes.documentInvalid;
}

function usage(io: CommandIo, command: string, message: string): number {
  io.stderr.write(`mragw ${command}: ${message}\n`);
  return exitCodes.usage;
}
