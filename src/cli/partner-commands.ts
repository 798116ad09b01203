/**
 * The partner's side of the protocol, from the command line: generate a key, sign a
 * document, send it and check the receipt, verify a receipt offline.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { bodyDigest } from '../intake/receipt.ts';
import { RECEIPT_TYP } from '../intake/receipt.ts';
import { verifyGatewaySigned } from '../keys/gateway-keys.ts';
import type { PublicJwk } from '../registry/partner.ts';
import { signRequest } from '../sign/request-signature.ts';
import type { CommandIo } from './io.ts';
import { exitCodes, readAll } from './io.ts';
import { loadSigningKey } from './key-files.ts';

type Alg = 'ES256' | 'ES384' | 'EdDSA' | 'PS256';

/** `mragw keys generate`: a new key pair; prints the public JWKS to register with the gateway. */
export async function keysGenerate(options: { alg: Alg; kid?: string | undefined; out: string }, io: CommandIo): Promise<number> {
  const pair =
    options.alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : options.alg === 'PS256'
        ? generateKeyPairSync('rsa', { modulusLength: 3072 })
        : generateKeyPairSync('ec', { namedCurve: options.alg === 'ES256' ? 'P-256' : 'P-384' });
  const publicJwk = pair.publicKey.export({ format: 'jwk' });
  const kid = options.kid ?? (await calculateJwkThumbprint(publicJwk as Parameters<typeof calculateJwkThumbprint>[0]));
  const privateJwk = { ...pair.privateKey.export({ format: 'jwk' }), kid, alg: options.alg };
  const jwks = { keys: [{ ...publicJwk, kid, alg: options.alg, use: 'sig' }] };
  mkdirSync(options.out, { recursive: true });
  const privateFile = join(options.out, `${kid}.private.jwk.json`);
  const publicFile = join(options.out, `${kid}.public.jwks.json`);
  writeFileSync(privateFile, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(publicFile, `${JSON.stringify(jwks, null, 2)}\n`);
  io.stderr.write(`private key: ${privateFile} (keep it secret)\npublic key set: ${publicFile} (send it to the gateway operator; thumbprint ${await calculateJwkThumbprint(publicJwk as Parameters<typeof calculateJwkThumbprint>[0])})\n`);
  io.stdout.write(`${JSON.stringify(jwks, null, 2)}\n`);
  return exitCodes.ok;
}

export interface SignOptions {
  key: string;
  iss: string;
  aud: string;
  method: string;
  target: string;
  contentType?: string | undefined;
  file?: string | undefined;
}

/** `mragw sign`: the JWS-Signature header value for a document, on standard output. */
export async function signCommand(options: SignOptions, io: CommandIo): Promise<number> {
  const key = await loadSigningKey(options.key);
  const body = options.file === undefined ? await readAll(io.stdin, 1 << 30, '<stdin>') : readFileSync(options.file);
  io.stdout.write(`${signRequest({ key, iss: options.iss, aud: options.aud, method: options.method.toUpperCase(), target: options.target, body, ...(options.contentType && { contentType: options.contentType }) })}\n`);
  return exitCodes.ok;
}

export interface SendOptions {
  key: string;
  iss: string;
  aud: string;
  url: string;
  contentType: string;
  file: string;
  jti?: string | undefined;
}

/** `mragw send`: signs and POSTs a document, then verifies the receipt against the gateway's JWKS. */
export async function sendCommand(options: SendOptions, io: CommandIo): Promise<number> {
  const key = await loadSigningKey(options.key);
  const body = readFileSync(options.file);
  const url = new URL(options.url);
  const signature = signRequest({ key, iss: options.iss, aud: options.aud, method: 'POST', target: `${stripBase(url)}${url.search}`, body, contentType: options.contentType, ...(options.jti && { jti: options.jti }) });
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': options.contentType, 'JWS-Signature': signature }, body });
  const text = await response.text();
  if (response.status !== 200 && response.status !== 202) {
    io.stderr.write(`mragw send: the gateway answered ${response.status}\n`);
    io.stdout.write(`${text}\n`);
    return exitCodes.someRejected;
  }
  const { exchangeId, receipt } = JSON.parse(text) as { exchangeId: string; receipt: string };
  const jwksUrl = new URL(`${basePath(url)}/.well-known/jwks.json`, url);
  const jwks = (await (await fetch(jwksUrl)).json()) as { keys: PublicJwk[] };
  let claims: Record<string, unknown>;
  try {
    claims = await verifyGatewaySigned(receipt, jwks, RECEIPT_TYP);
  } catch (error) {
    io.stderr.write(`mragw send: the receipt does not verify against ${jwksUrl.href}: ${(error as Error).message}\n`);
    return exitCodes.documentInvalid;
  }
  const problems = receiptProblems(claims, { iss: options.aud, aud: options.iss, exchangeId, digest: bodyDigest(body) });
  if (problems.length > 0) {
    io.stderr.write(`mragw send: the receipt does not match this request: ${problems.join('; ')}\n`);
    return exitCodes.documentInvalid;
  }
  io.stdout.write(`${JSON.stringify({ status: response.status, exchangeId, location: response.headers.get('location'), receipt: claims }, null, 2)}\n`);
  return exitCodes.ok;
}

/** `mragw verify-receipt`: verifies a receipt offline against a JWKS file or URL; prints its claims. */
export async function verifyReceiptCommand(options: { jwks: string; receipt?: string | undefined }, io: CommandIo): Promise<number> {
  const token = (options.receipt ?? (await readAll(io.stdin, 1 << 20, '<stdin>')).toString('utf8')).trim();
  const jwks = /^https?:\/\//.test(options.jwks) ? ((await (await fetch(options.jwks)).json()) as { keys: PublicJwk[] }) : (JSON.parse(readFileSync(options.jwks, 'utf8')) as { keys: PublicJwk[] });
  try {
    const claims = await verifyGatewaySigned(token, jwks, RECEIPT_TYP);
    io.stdout.write(`${JSON.stringify(claims, null, 2)}\n`);
    return exitCodes.ok;
  } catch (error) {
    io.stderr.write(`mragw verify-receipt: the receipt does not verify: ${(error as Error).message}\n`);
    return exitCodes.someRejected;
  }
}

/** What a receipt must say about the request it answers (PROTOCOL §7). */
function receiptProblems(claims: Record<string, unknown>, expected: Record<string, string>): string[] {
  return Object.entries(expected)
    .filter(([name, value]) => claims[name] !== value)
    .map(([name, value]) => `${name} is ${JSON.stringify(claims[name])}, expected ${value}`);
}

/** The gateway's base path: whatever comes before /v1/ in the exchanges URL. */
function basePath(url: URL): string {
  const i = url.pathname.indexOf('/v1/');
  return i < 0 ? '' : url.pathname.slice(0, i);
}

/** The request-target the gateway compares `htu` with: the path without the base path. */
function stripBase(url: URL): string {
  return url.pathname.slice(basePath(url).length);
}

