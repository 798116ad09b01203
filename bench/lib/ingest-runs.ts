/**
 * The runs the ingest scenarios share (`ingest-snapshot`, `receipt-latency`,
 * `ingest-memory`, `apply-block`, `delta-1pct`): an EU SNAPSHOT signed and POSTed over
 * HTTP to a whole gateway, followed until applied, then a DELTA changing 1% of it. Each
 * run is a fresh gateway on a fresh store (the embedded one, or a scratch database on
 * --postgres), warmed up by a small SNAPSHOT of its own before the measured one (its
 * 1,000 records are the measured one's first, which thus finds them unchanged). In the
 * same run, on the same store, the floors: saxes scanning the same bytes, and one bulk
 * insert of the same records as jsonb rows.
 */
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/open-store.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { euSnapshot } from '../documents.ts';
import { createDatabase, ingest, longestBlockSinceLastScrape, partnerKey, rssMiB, rssPeak, startGateway } from './gateway.ts';
import { saxesScan } from './saxes-scan.ts';
import { timed, type BenchContext } from './scenario.ts';

export interface IngestRun {
  to202: number;
  toApplied: number;
  /** Peak resident memory of the gateway during the measured ingest, above what it held just before, MiB. */
  growthMiB: number;
  /** Longest event-loop block from the POST until applied, seconds. */
  longestBlock: number;
  /** The same two up to the 202 alone: what intake costs, apart from the apply job. */
  growthTo202MiB: number;
  longestBlockTo202: number;
  resets: number;
  /** Seconds from the first byte of a DELTA changing 1% of the records (sequence 3) until it is applied. */
  delta1pct: number;
  /** The floors, measured after this run on the same machine state. */
  saxes: number;
  bulkInsert: number;
}

export interface IngestRuns {
  records: number;
  documentBytes: number;
  runs: IngestRun[];
}

/** The ingest runs of this bench run, made once whichever ingest scenario asks first. */
export function ingestRuns(context: BenchContext): Promise<IngestRuns> {
  return context.shared('ingest', () => measureIngest(context));
}

async function measureIngest(context: BenchContext): Promise<IngestRuns> {
  const runs = context.quick ? 1 : 3;
  const partner = partnerKey();
  const warmUp = Buffer.from(euSnapshot(Math.min(1_000, context.records), { batchId: 'EU-BENCH-WARM-UP', sequence: 1 }));
  const body = Buffer.from(euSnapshot(context.records, { batchId: 'EU-BENCH-MEASURED', sequence: 2 }));
  const changed = Math.max(1, Math.round(context.records / 100));
  const delta = Buffer.from(euSnapshot(changed, { batchId: 'EU-BENCH-DELTA', sequence: 3, type: 'DELTA', street: 14 }));
  // The rows the insert floor writes: the canonical records the gateway stores, as jsonb.
  const records = readDocument(loadFormats().get('eu-aeo')!, body).batch.records;
  const keys = records.map((r) => r.key);
  const documents = records.map((r) => JSON.stringify(r));
  saxesScan(body); // the floor's warm-up

  const measured: IngestRun[] = [];
  for (let i = 0; i < runs; i++) {
    const database = context.postgres ? await createDatabase(context.postgres) : undefined;
    const gateway = await startGateway({ partner, redisUrl: context.redisUrl, databaseUrl: database?.url });
    try {
      await ingest(gateway, partner, warmUp);
      await longestBlockSinceLastScrape(gateway); // resets the gauge
      const before = rssMiB(gateway.pid);
      const during = rssPeak(gateway.pid);
      let growthTo202MiB = Number.NaN;
      let longestBlockTo202 = Number.NaN;
      const times = await ingest(gateway, partner, body, async () => {
        growthTo202MiB = during.peak() - before;
        longestBlockTo202 = await longestBlockSinceLastScrape(gateway); // and resets the gauge
      });
      const peak = during.stop();
      // The gauge was reset at the 202: the longest block of the whole ingest is the longer of the two parts.
      const longestBlock = Math.max(longestBlockTo202, await longestBlockSinceLastScrape(gateway));
      const deltaTimes = await ingest(gateway, partner, delta);
      // Figures of an apply that did not do the work would be no figures: check what each did.
      const { counts } = times.view;
      if (counts?.['records'] !== context.records || counts['rejected'] !== 0 || (counts['created'] ?? 0) + (counts['unchanged'] ?? 0) !== context.records) throw new Error(`the SNAPSHOT applied as ${JSON.stringify(counts)}`);
      if (deltaTimes.view.counts?.['changed'] !== changed) throw new Error(`the DELTA applied as ${JSON.stringify(deltaTimes.view.counts)}`);
      const delta1pct = deltaTimes.toApplied;
      await gateway.stop();
      const bulkInsert = await insertFloor(database?.url, gateway.dataDir, keys, documents);
      const saxes = timed(() => saxesScan(body)).seconds;
      measured.push({ to202: times.to202, toApplied: times.toApplied, resets: times.resets, growthMiB: peak - before, longestBlock, growthTo202MiB, longestBlockTo202, delta1pct, saxes, bulkInsert });
    } finally {
      await gateway.stop();
      gateway.dispose();
      await database?.drop();
    }
  }
  return { records: context.records, documentBytes: body.length, runs: measured };
}

/**
 * Seconds for one `insert … select from unnest` of every record into a scratch table
 * keyed as the operators table is, on the store the gateway just used (reopened).
 */
async function insertFloor(databaseUrl: string | undefined, dataDir: string, keys: string[], documents: string[]): Promise<number> {
  const db = await openStore({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir });
  const table = `bench_floor_${randomBytes(4).toString('hex')}`;
  try {
    // eslint-disable-next-line no-restricted-syntax -- the floor is the bare server, not a repository
    await db.query(`create table ${table} (partner text not null, record_key text not null, record jsonb not null, primary key (partner, record_key))`);
    const start = process.hrtime.bigint();
    // eslint-disable-next-line no-restricted-syntax -- the floor is the bare server, not a repository
    await db.query(`insert into ${table} (partner, record_key, record) select 'EU', k, r from unnest($1::text[], $2::jsonb[]) as u(k, r)`, [keys, documents]);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    // eslint-disable-next-line no-restricted-syntax -- the floor is the bare server, not a repository
    await db.query(`drop table if exists ${table}`);
    await db.close();
  }
}
