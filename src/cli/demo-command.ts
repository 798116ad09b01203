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
import { startGateway } from '../server/gateway.ts';
import { signRequest } from '../sign/request-signature.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { exitCodes, type CommandIo } from './io.ts';
import { loadSigningKey } from './key-files.ts';

export async function demoCommand(settings: Settings, options: { devKeysDir: string; fixturesDir: string }, io: CommandIo): Promise<number> {
  const gateway = await startGateway({ ...settings, PORT: 0, METRICS_PORT: 0 }, { api: true, workers: true }, pino({ level: 'silent' }));
  const say = (line: string) => io.stdout.write(`${line}\n`);
  let failures = 0;
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
      const claims = await verifyGatewaySigned(receipt, jwks, RECEIPT_TYP);
      const verified = claims['digest'] === bodyDigest(body) && claims['aud'] === partner.id;
      const readTarget = `/v1/exchanges/${exchangeId}`;
      const readSignature = signRequest({ key, iss: partner.id, aud: settings.GATEWAY_ID, method: 'GET', target: readTarget, body: new Uint8Array(0) });
      const view = (await (await fetch(`${gateway.url}${readTarget}`, { headers: { 'JWS-Signature': readSignature } })).json()) as { state: string; counts: { records: number; rejected: number } };
      const answer = response.status === 202 ? '202 accepted' : '200 repeat (same batch as before: the earlier receipt)';
      say(`${partner.id.padEnd(3)} ${partner.format.padEnd(7)} ${answer}; ${claims['kind']} #${claims['sequence']}, disposition ${claims['disposition']}${claims['heldReason'] ? ` (${claims['heldReason']})` : ''}; ${view.counts.records} records, ${view.counts.rejected} rejected; receipt ${verified ? 'verified' : 'NOT VERIFIED'}`);
      if (!verified) failures++;
    }
    say(`\nEvery document, its signature header and its receipt are in the store of record; run again to see retries answered with the earlier receipts.`);
  } finally {
    await gateway.close();
  }
  return failures === 0 ? exitCodes.ok : exitCodes.someRejected;
}
