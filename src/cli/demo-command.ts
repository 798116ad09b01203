/**
 * `mragw demo`: the gateway on embedded defaults, and each shipped partner sending its
 * sample document signed with its development key, as a real partner would: the
 * answers, the receipts verified against the gateway's JWKS, and what the read-back says.
 * Then the other direction: each partner's reference inbox runs in-process, the C-TPAT
 * sample is imported through the staff API, and each partner's first document, its
 * receipt, and a U.S. member's cross-border status are shown.
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseDocument } from 'yaml';
import { gatewayDirectory } from '../deliver/gateway-directory.ts';
import { startInbox } from '../deliver/inbox.ts';
import { mintDevStaffToken } from '../staff/dev-issuer.ts';
import type { Settings } from '../config.ts';
import { bodyDigest } from '../intake/receipt.ts';
import { RECEIPT_TYP } from '../intake/receipt.ts';
import { verifyGatewaySigned } from '../keys/gateway-keys.ts';
import type { PublicJwk } from '../registry/partner.ts';
import { startGateway, type RunningGateway } from '../server/gateway.ts';
import { signRequest } from '../sign/request-signature.ts';
import { feedLength, feedMidsByPartner } from '../store/benefit-feed.ts';
import { openCountsByPartner } from '../store/discrepancies.ts';
import { countUnapplied } from '../store/exchanges.ts';
import { firstRecognized, recognitionCounts } from '../store/operators.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { loadRegistry } from '../registry/load-registry.ts';
import { exitCodes, type CommandIo } from './io.ts';
import { loadSigningKey } from './key-files.ts';

export async function demoCommand(settings: Settings, options: { devKeysDir: string; fixturesDir: string }, io: CommandIo): Promise<number> {
  // Each shipped partner's reference inbox, on a free loopback port, named as its delivery.url in a demo copy of the registry.
  const inboxes = await startInboxes(settings, options.devKeysDir);
  const demoSettings: Settings = { ...settings, PARTNERS_DIR: demoRegistry(settings, inboxes), MRAGW_DEV_STAFF: settings.STAFF_JWKS ? settings.MRAGW_DEV_STAFF : '1', PORT: 0, METRICS_PORT: 0 };
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(demoSettings, { api: true, workers: true }, pino({ level: 'silent' }));
  } catch (error) {
    await Promise.all(inboxes.map((i) => i.inbox.close()));
    throw error;
  }
  const say = (line: string) => io.stdout.write(`${line}\n`);
  let failures = 0;
  const exchanges: string[] = [];
  try {
    for (const i of inboxes) i.gatewayUrl.resolve(gateway.url!);
    say(`gateway ${settings.GATEWAY_ID} on ${gateway.url} (store: ${gateway.db.kind}, data in ${settings.DATA_DIR})`);
    const jwks = (await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json()) as { keys: PublicJwk[] };
    say(`its JWKS publishes ${jwks.keys.length} key(s): ${jwks.keys.map((k) => k.kid).join(', ')}\n`);
    const formats = loadFormats();
    for (const partner of gateway.registry.partners()) {
      const keyFile = join(options.devKeysDir, `${partner.id.toLowerCase()}.private.jwk.json`);
      const sampleDir = join(options.fixturesDir, partner.format, 'sample');
      const sample = readdirSync(sampleDir).find((f) => f.startsWith('input.'));
      if (!sample) continue;
      const key = await loadSigningKey(keyFile);
      const body = readFileSync(join(sampleDir, sample));
      const contentType = formats.get(partner.format)!.mediaType;
      const signature = signRequest({ key, iss: partner.id, aud: settings.GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body, contentType });
      const response = await fetch(`${gateway.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': contentType, 'JWS-Signature': signature }, body });
      const text = await response.text();
      if (response.status !== 200 && response.status !== 202) {
        failures++;
        say(`${partner.id.padEnd(3)} ${partner.format.padEnd(7)} ${response.status} ${text}`);
        continue;
      }
      const { exchangeId, receipt } = JSON.parse(text) as { exchangeId: string; receipt: string };
      exchanges.push(exchangeId);
      const claims = await verifyGatewaySigned(receipt, jwks, RECEIPT_TYP);
      const verified = claims['digest'] === bodyDigest(body) && claims['aud'] === partner.id;
      const readTarget = `/v1/exchanges/${exchangeId}`;
      const readSignature = signRequest({ key, iss: partner.id, aud: settings.GATEWAY_ID, method: 'GET', target: readTarget, body: new Uint8Array(0) });
      const view = (await (await fetch(`${gateway.url}${readTarget}`, { headers: { 'JWS-Signature': readSignature } })).json()) as { state: string; counts: { records: number; rejected: number } };
      const answer = response.status === 202 ? '202 accepted' : '200 repeat (same batch as before: the earlier receipt)';
      say(`${partner.id.padEnd(3)} ${partner.format.padEnd(7)} ${answer}; ${claims['kind']} #${claims['sequence']}, disposition ${claims['disposition']}${claims['heldReason'] ? ` (${claims['heldReason']})` : ''}; ${view.counts.records} records, ${view.counts.rejected} rejected; receipt ${verified ? 'verified' : 'NOT VERIFIED'}`);
      if (!verified) failures++;
    }
    await settled(gateway, exchanges);
    await reportReconciliation(gateway, jwks, say);
    failures += await deliverMembers(gateway, demoSettings, options.fixturesDir, jwks, say);
    say(`\nEvery document, its signature header and its receipt are in the store of record; run again to see retries answered with the earlier receipts.`);
  } finally {
    await gateway.close();
    await Promise.all(inboxes.map((i) => i.inbox.close()));
  }
  return failures === 0 ? exitCodes.ok : exitCodes.someRejected;
}

/** Waits (a little) until the workers have applied what was accepted. */
async function settled(gateway: RunningGateway, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await countUnapplied(gateway.db, ids)) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What reconciliation decided, partner by partner, and one status assertion verified offline. */
async function reportReconciliation(gateway: RunningGateway, jwks: { keys: PublicJwk[] }, say: (line: string) => void): Promise<void> {
  say('\nreconciled (recognitions, MIDs with benefits, open discrepancies):');
  const states = new Map<string, string[]>();
  for (const { partner, state, count } of await recognitionCounts(gateway.db)) states.set(partner, [...(states.get(partner) ?? []), `${state} ${count}`]);
  const mids = await feedMidsByPartner(gateway.db);
  const open = await openCountsByPartner(gateway.db);
  for (const [partner, counts] of states) say(`${partner.padEnd(3)} ${counts.join(', ')}; ${mids.get(partner) ?? 0} MID(s) with benefits; ${open.get(partner) ?? 0} discrepancy(ies) for staff`);
  say(`benefit change feed: ${await feedLength(gateway.db)} entries (GET /v1/benefits/changes?after=0, staff or feed-reader)`);
  const first = await firstRecognized(gateway.db);
  if (!first) return;
  const format = gateway.registry.partner(first.partner)!.format;
  const answer = (await (await fetch(`${gateway.url}/v1/status/${format}/${encodeURIComponent(first.key)}`)).json()) as { assertion: string };
  const claims = await verifyGatewaySigned(answer.assertion, jwks, 'mra-status+jwt');
  const recognition = (claims['recognitions'] as { state: string; since: string }[])[0]!;
  say(`status of ${claims['sub']} asked anonymously: ${claims['status']}, ${recognition.state} since ${recognition.since}; the signed assertion verifies against the JWKS`);
}

/** Stands for the gateway's address in the inboxes' JWKS URL until the gateway listens (it starts after them: its registry names their ports). */
const PLACEHOLDER = 'http://127.0.0.1:1';

interface DemoInbox {
  partner: string;
  url: string;
  inbox: Awaited<ReturnType<typeof startInbox>>;
  /** The gateway's address, known once it listens: the inbox fetches its JWKS from there. */
  gatewayUrl: { resolve(url: string): void };
}

/** One reference inbox per shipped partner that has a development key, on 127.0.0.1 and a free port. */
async function startInboxes(settings: Settings, devKeysDir: string): Promise<DemoInbox[]> {
  const formats = loadFormats();
  const partners = loadRegistry(settings.PARTNERS_DIR, new Set(formats.keys()));
  const started: DemoInbox[] = [];
  try {
    for (const partner of [...partners.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const keyFile = join(devKeysDir, `${partner.id.toLowerCase()}.private.jwk.json`);
      if (!existsSync(keyFile)) continue;
      const signing = await loadSigningKey(keyFile);
      const members = ['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi'] as const;
      const material = Object.fromEntries(members.filter((m) => signing.privateJwk[m] !== undefined).map((m) => [m, signing.privateJwk[m]])) as JsonWebKey;
      let resolveUrl!: (url: string) => void;
      const gatewayUrl = new Promise<string>((resolve) => (resolveUrl = resolve));
      // The JWKS is fetched only when the first delivery arrives, by then the gateway listens.
      const lazyFetch: typeof fetch = async (input, init) => fetch(String(input).replace(PLACEHOLDER, await gatewayUrl), init);
      const inbox = await startInbox({
        host: '127.0.0.1',
        port: 0,
        partner: { ...partner, delivery: undefined },
        format: formats.get(partner.format)!,
        receiptKey: { privateKey: createPrivateKey({ key: material, format: 'jwk' }), kid: signing.privateJwk.kid, alg: signing.alg },
        gatewayId: settings.GATEWAY_ID,
        gateway: gatewayDirectory(settings.GATEWAY_ID, partner.format, { jwksUri: `${PLACEHOLDER}/.well-known/jwks.json` }, { fetch: lazyFetch }),
      });
      started.push({ partner: partner.id, url: `${inbox.url}/mra/inbox`, inbox, gatewayUrl: { resolve: resolveUrl } });
    }
  } catch (error) {
    await Promise.all(started.map((i) => i.inbox.close()));
    throw error;
  }
  return started;
}

/** A copy of the registry in DATA_DIR/demo-partners, each entry with `delivery.url` its demo inbox; config/partners is left alone. */
function demoRegistry(settings: Settings, inboxes: readonly DemoInbox[]): string {
  const dir = join(settings.DATA_DIR, 'demo-partners');
  mkdirSync(dir, { recursive: true });
  const urls = new Map(inboxes.map((i) => [i.partner, i.url]));
  for (const file of readdirSync(settings.PARTNERS_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    const document = parseDocument(readFileSync(join(settings.PARTNERS_DIR, file), 'utf8'));
    const url = urls.get(String(document.get('id')));
    if (url !== undefined) document.set('delivery', { url });
    writeFileSync(join(dir, file), document.toString());
  }
  return dir;
}

interface DeliveryRow {
  sequence: number;
  kind: string;
  state: string;
  recordCount: number;
  disposition: string | null;
  heldReason: string | null;
  lastError: string | null;
}

/**
 * The C-TPAT sample imported as staff, each partner's first document as delivered to its
 * inbox, the members a format cannot carry, and one U.S. member's status. Returns failures.
 */
async function deliverMembers(gateway: RunningGateway, settings: Settings, fixturesDir: string, jwks: { keys: PublicJwk[] }, say: (line: string) => void): Promise<number> {
  const token = await mintDevStaffToken(settings.DATA_DIR, { subject: 'demo.officer', roles: ['admin'], ttlSeconds: 600 });
  const staff = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const response = await fetch(`${gateway.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const sample = join(fixturesDir, 'ctpat', 'sample', 'input.ndjson');
  const imported = await staff<{ imported: number; rejectedLines: number; added: { count: number }; changed: { count: number }; removed: { count: number }; noLongerSendable: { count: number }; unchanged: number; outbound: string[] }>('/v1/ctpat/members', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body: readFileSync(sample),
  });
  const changes = imported.added.count + imported.changed.count + imported.removed.count + imported.noLongerSendable.count;
  say(`\nC-TPAT sample imported as staff: ${imported.imported} members, ${imported.added.count} added, ${imported.changed.count} changed, ${imported.removed.count} removed, ${imported.unchanged} unchanged`);
  if (changes === 0) say('nothing changed since the last import, so no new document goes out; the first documents as delivered before:');
  else say(`delivered to each partner's inbox (${imported.outbound.length} partners with a delivery.url):`);

  const partners = gateway.registry.partners().filter((p) => p.delivery !== undefined).map((p) => p.id).sort();
  const first = new Map<string, DeliveryRow>();
  const deadline = Date.now() + 30_000;
  while (first.size < partners.length && Date.now() < deadline) {
    for (const partner of partners) {
      if (first.has(partner)) continue;
      const { deliveries } = await staff<{ deliveries: DeliveryRow[] }>(`/v1/partners/${partner}/deliveries?limit=1000`);
      const one = deliveries.find((d) => d.sequence === 1 && (d.state === 'delivered' || d.state === 'dead'));
      if (one) first.set(partner, one);
    }
    if (first.size < partners.length) await new Promise((r) => setTimeout(r, 100));
  }
  let failures = 0;
  const { discrepancies } = await staff<{ discrepancies: { kind: string; partner: string; key: string; detail: unknown }[] }>('/v1/discrepancies?state=open&limit=1000');
  for (const partner of partners) {
    const d = first.get(partner);
    const unwritable = discrepancies.filter((x) => x.kind === 'outbound-unwritable' && x.partner === partner).map((x) => x.key);
    const cannot = unwritable.length === 0 ? '' : `; cannot carry ${unwritable.join(', ')} (outbound-unwritable, for staff)`;
    if (d === undefined) {
      failures++;
      say(`${partner.padEnd(3)} no document delivered within 30 s${cannot}`);
    } else if (d.state !== 'delivered') {
      failures++;
      say(`${partner.padEnd(3)} #${d.sequence} ${d.kind}, ${d.recordCount} records: dead letter (${d.lastError ?? 'no answer'})${cannot}`);
    } else {
      say(`${partner.padEnd(3)} #${d.sequence} ${d.kind}, ${d.recordCount} records; disposition ${d.disposition}${d.heldReason ? ` (${d.heldReason})` : ''}; receipt verified${cannot}`);
    }
  }

  const answer = (await (await fetch(`${gateway.url}/v1/status/ctpat/CT-0012345`)).json()) as { assertion: string };
  const claims = await verifyGatewaySigned(answer.assertion, jwks, 'mra-status+jwt');
  const held = ((claims['recognitions'] as { authority: string; state: string }[] | undefined) ?? []).map((r) => `${r.authority} ${r.state}`);
  say(`status of C-TPAT member ${claims['sub']}: ${claims['status']}; held by ${held.length === 0 ? 'no partner yet' : held.join(', ')}; the signed assertion verifies against the JWKS`);
  return failures;
}
