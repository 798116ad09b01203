/**
 * `mragw inbox`: the reference partner inbox (src/deliver/inbox.ts) on the command line,
 * for a foreign administration testing its own receiving end against the gateway, or
 * standing in for it. It reads the partner's registry file for its id and format, and
 * refuses to start with a key the gateway would not accept receipts from.
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gatewayDirectory, type GatewayKeySource } from '../deliver/gateway-directory.ts';
import { startInbox, type InboxDocument } from '../deliver/inbox.ts';
import { GatewayError } from '../errors.ts';
import { loadRegistry } from '../registry/load-registry.ts';
import type { Partner, PublicJwk } from '../registry/partner.ts';
import { canonicalAlgorithm } from '../verify/signature.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { exitCodes, type CommandIo } from './io.ts';
import { loadSigningKey } from './key-files.ts';

export interface InboxCommandOptions {
  /** The partner's registry id. */
  as: string;
  /** The partner's private key (JWK or PKCS#8 PEM): it signs the receipts. */
  key: string;
  host: string;
  port: number;
  /** The gateway's JWKS: a URL (its /.well-known/jwks.json) or a file. */
  gatewayJwks: string;
  gatewayId: string;
  partnersDir: string;
}

/** Runs the inbox until SIGTERM or SIGINT (or `stop`, for tests); prints one line per document on standard output. */
export async function inboxCommand(options: InboxCommandOptions, io: CommandIo, stop?: Promise<void>): Promise<number> {
  const formats = loadFormats();
  const partners = loadRegistry(options.partnersDir, new Set(formats.keys()));
  const partner = partners.get(options.as);
  if (partner === undefined) throw new GatewayError('usage', `no partner "${options.as}" in ${options.partnersDir} (registered: ${[...partners.keys()].sort().join(', ') || 'none'})`);
  const format = formats.get(partner.format)!;
  const signing = await loadSigningKey(options.key);
  refuseUnregisteredKey(partner, signing.privateJwk, signing.alg);
  const members = ['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi'] as const;
  const material = Object.fromEntries(members.filter((m) => signing.privateJwk[m] !== undefined).map((m) => [m, signing.privateJwk[m]])) as JsonWebKey;

  const inbox = await startInbox({
    host: options.host,
    port: options.port,
    partner,
    format,
    receiptKey: { privateKey: createPrivateKey({ key: material, format: 'jwk' }), kid: signing.privateJwk.kid, alg: signing.alg },
    gatewayId: options.gatewayId,
    gateway: gatewayDirectory(options.gatewayId, partner.format, gatewayKeys(options.gatewayJwks)),
    onDocument: (doc) => io.stdout.write(`${documentLine(doc)}\n`),
    onRefusal: (status, slug, detail) => io.stderr.write(`refused ${status} ${slug}: ${detail}\n`),
  });
  const stopped =
    stop ??
    new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
  io.stderr.write(`mragw inbox for ${partner.id} (${format.id}, ${format.mediaType}) listening on ${inbox.url}; trusting ${options.gatewayId}'s keys from ${options.gatewayJwks}\n`);
  await stopped;
  await inbox.close();
  return exitCodes.ok;
}

/** `EU sequence 40 SNAPSHOT records 3 accepted …`: partner, sequence, kind, records, disposition. */
export function documentLine(doc: InboxDocument): string {
  const held = doc.heldReason === undefined ? '' : ` (${doc.heldReason})`;
  const rejected = doc.rejected === 0 ? '' : `; ${doc.rejected} fail ${doc.partner}'s inbound record rules`;
  return `${doc.partner} sequence ${doc.sequence} ${doc.kind} records ${doc.records} ${doc.disposition}${held} batch ${doc.batchId} exchange ${doc.exchangeId}${rejected}`;
}

/** The gateway's key set: fetched from a URL (https, or http on loopback), or read from a file once. */
function gatewayKeys(source: string): GatewayKeySource {
  if (/^https?:\/\//i.test(source)) return { jwksUri: source };
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new GatewayError('usage', `--gateway-jwks ${source}: not a readable JSON key set (${(error as Error).message})`);
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new GatewayError('usage', `--gateway-jwks ${source}: a JWKS is an object with a "keys" array`);
  return { jwks: { keys: keys as PublicJwk[] } };
}

/**
 * The gateway takes receipts only from keys in the partner's registry entry (§7): an
 * inbox signing with another key would see every delivery dead-lettered, so say it now.
 */
function refuseUnregisteredKey(partner: Partner, jwk: JsonWebKey & { kid: string }, alg: string): void {
  const canonical = canonicalAlgorithm(alg);
  if (!partner.keys.algorithms.some((a) => canonicalAlgorithm(a) === canonical)) {
    throw new GatewayError('usage', `the key signs ${alg}, which ${partner.id}'s registry entry does not allow (${partner.keys.algorithms.join(', ')})`);
  }
  // A jwksUri partner's keys are on its own server: the gateway checks them at delivery.
  const registered = partner.keys.jwks?.keys;
  if (registered === undefined) return;
  const entry = registered.find((k) => k.kid === jwk.kid);
  const same = entry !== undefined && (['kty', 'crv', 'x', 'y', 'n', 'e'] as const).every((m) => (entry[m] ?? undefined) === (jwk[m] ?? undefined));
  if (!same) throw new GatewayError('usage', `the key "${jwk.kid}" is not registered for ${partner.id} in its registry file: the gateway would refuse every receipt it signs`);
}
