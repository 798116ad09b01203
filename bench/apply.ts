/**
 * Applying a large EU SNAPSHOT in-process (`npx tsx bench/apply.ts`), on the embedded PostgreSQL.
 * Reports the time next to translating the same document alone (the floor reconciliation
 * adds to), and the longest the event loop was blocked — a job must renew its queue lock
 * (JOB_LOCK_S, 30 s) well within that, or another worker takes it over.
 */
import { randomUUID } from 'node:crypto';
import { PartnerEntry } from '../src/registry/partner.ts';
import { applyBatch } from '../src/jobs/apply-batch.ts';
import { insertExchange } from '../src/store/exchanges.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open-store.ts';
import { removeRelocatedCluster } from '../src/store/embedded-postgres.ts';
import { loadFormats } from '../src/translate/load-mappings.ts';
import { readDocument } from '../src/translate/read-document.ts';
import { euSnapshot } from './documents.ts';

const records = Number(process.env['BENCH_APPLY_RECORDS'] ?? 100_000);
const formats = loadFormats();
const eu = PartnerEntry.parse({ id: 'EU', name: 'EU', programme: 'EU-AEO', format: 'eu-aeo', mra: { scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations', 'front-of-line'] }, keys: { algorithms: ['ES256'], jwks: { keys: [] } } });
const body = Buffer.from(euSnapshot(records));

let t = process.hrtime.bigint();
readDocument(formats.get('eu-aeo')!, body);
const translateSeconds = Number(process.hrtime.bigint() - t) / 1e9;

// The external PostgreSQL when BENCH_DATABASE_URL names an (empty) database, else a fresh embedded one.
const dataDir = mkdtempSync(join(tmpdir(), 'mragw-bench-'));
const db = await openStore({ DATABASE_URL: process.env['BENCH_DATABASE_URL'], DATA_DIR: dataDir });
/** Stores a SNAPSHOT as intake would have accepted it; returns its exchange id. */
async function received(sequence: number, document: Buffer): Promise<string> {
  const id = randomUUID();
  await insertExchange(db, {
    id, partner: 'EU', requestJti: `bench-${sequence}`, batchId: `EU-BENCH-${sequence}`, sequence, kind: 'SNAPSHOT', format: 'eu-aeo', contentType: 'application/xml', digest: 'x', body: document,
    signatureHeader: 'x', signingKid: 'x', receivedAt: new Date(), disposition: 'accepted', heldReason: undefined, state: 'received', counts: { records, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: 0 }, rejections: [], receipt: 'x', receiptKid: 'x',
  });
  return id;
}
const id = await received(1, body);
// The longest gap between ticks of a 10 ms timer: how long the event loop was blocked.
let blockedSeconds = 0;
let last = process.hrtime.bigint();
const ticker = setInterval(() => {
  const now = process.hrtime.bigint();
  blockedSeconds = Math.max(blockedSeconds, Number(now - last) / 1e9 - 0.01);
  last = now;
}, 10);
// Resident memory above what the process held just before, sampled every 25 ms.
global.gc?.();
const rssBefore = process.memoryUsage.rss();
let rssPeak = rssBefore;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 25);
t = process.hrtime.bigint();
const outcome = await applyBatch({ db, formats, partner: () => eu }, id);
const applySeconds = Number(process.hrtime.bigint() - t) / 1e9;
clearInterval(ticker);
clearInterval(sampler);
rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
// The same records again, as a partner's next daily SNAPSHOT says them: every operator unchanged.
const again = await received(2, Buffer.from(euSnapshot(records, { batchId: 'EU-BENCH-2', sequence: 2 })));
t = process.hrtime.bigint();
const againOutcome = await applyBatch({ db, formats, partner: () => eu }, again);
const againSeconds = Number(process.hrtime.bigint() - t) / 1e9;
await db.close();
removeRelocatedCluster(dataDir);
rmSync(dataDir, { recursive: true, force: true });

process.stdout.write(
  [
    `\napply-batch, ${records} EU records (${(body.length / 1e6).toFixed(1)} MB), on ${db.kind}:`,
    `| case | time | vs translate only |`,
    `| --- | --- | --- |`,
    `| translate to canonical only (floor) | ${translateSeconds.toFixed(2)} s | 1.00× |`,
    `| apply (translate, reconcile, save, one transaction) | ${applySeconds.toFixed(2)} s | ${(applySeconds / translateSeconds).toFixed(2)}× |`,
    `| the same records again, a second SNAPSHOT (every one unchanged) | ${againSeconds.toFixed(2)} s | ${(againSeconds / translateSeconds).toFixed(2)}× |`,
    `peak memory growth during apply: ${((rssPeak - rssBefore) / 2 ** 20).toFixed(0)} MiB (${((rssPeak - rssBefore) / body.length).toFixed(2)}× the document)`,
    `longest event-loop block during apply: ${blockedSeconds.toFixed(2)} s (${((blockedSeconds / 30) * 100).toFixed(0)}% of the 30 s job lock); outcome ${JSON.stringify(outcome)}; again ${JSON.stringify(againOutcome)}`,
    '',
  ].join('\n'),
);
