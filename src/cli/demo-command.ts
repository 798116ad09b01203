/**
 * `mragw demo`: the gateway on embedded defaults, and each shipped partner sending its
 * sample document signed with its development key, as a real partner would: the
 * answers, the receipts verified against the gateway's JWKS, and what the read-back says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Settings } from '../config.ts';
import { bodyDigest } from '../intake/accept-exchange.ts';
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
import { exitCodes, type CommandIo } from './io.ts';
import { loadSigningKey } from './key-files.ts';

export async function demoCommand(settings: Settings, options: { devKeysDir: string; fixturesDir: string }, io: CommandIo): Promise<number> {
  const gateway = await startGateway({ ...settings, PORT: 0, METRICS_PORT: 0 }, { api: true, workers: true }, pino({ level: 'silent' }));
  const say = (line: string) => io.stdout.write(`${line}\n`);
  let failures = 0;
  const exchanges: string[] = [];
  try {
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
    say(`\nEvery document, its signature header and its receipt are in the store of record; run again to see retries answered with the earlier receipts.`);
  } finally {
    await gateway.close();
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
