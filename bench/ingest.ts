/**
 * The embedded store beside an external PostgreSQL (`npx tsx bench/ingest.ts`; `npm run
 * bench` measures against floors instead): a large EU SNAPSHOT signed and POSTed over HTTP to a
 * whole gateway (`mragw start`, its own process), once on each store: the embedded
 * default and an external PostgreSQL. Reports, per store and as a ratio of embedded to
 * external measured in the same run: time to the 202, time until `applied`, the
 * gateway's memory growth, and the longest event-loop block from the POST until applied
 * (intake and apply run in the one process, as `npm start` runs them).
 *
 * BENCH_INGEST_RECORDS (default 100,000), BENCH_INGEST_RUNS (default 1; the median is
 * shown), BENCH_ADMIN_DATABASE_URL (default the local server CI starts).
 */
import { euSnapshot } from './documents.ts';
import { createDatabase, ingest, longestBlockSinceLastScrape, partnerKey, rssMiB, rssPeak, startGateway } from './lib/gateway.ts';

const records = Number(process.env['BENCH_INGEST_RECORDS'] ?? 100_000);
const runs = Number(process.env['BENCH_INGEST_RUNS'] ?? 1);
const adminUrl = process.env['BENCH_ADMIN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const partner = partnerKey();
const body = Buffer.from(euSnapshot(records)); // addressed to US-CBP-DEV, the default GATEWAY_ID

interface Figures {
  to202: number;
  toApplied: number;
  growthMiB: number;
  longestBlock: number;
  /** Status polls whose connection was reset while the gateway applied. */
  resets: number;
}

type Store = 'embedded' | 'external';

async function once(store: Store): Promise<Figures> {
  const database = store === 'external' ? await createDatabase(adminUrl) : undefined;
  const gateway = await startGateway({ partner, redisUrl, databaseUrl: database?.url });
  try {
    await longestBlockSinceLastScrape(gateway); // prom-client resets the event-loop gauge at each scrape
    const baseline = rssMiB(gateway.pid);
    const memory = rssPeak(gateway.pid);
    const times = await ingest(gateway, partner, body);
    const peak = memory.stop();
    return { ...times, growthMiB: peak - baseline, longestBlock: await longestBlockSinceLastScrape(gateway) };
  } finally {
    await gateway.stop();
    gateway.dispose();
    await database?.drop();
  }
}

const measured: Record<Store, Figures[]> = { embedded: [], external: [] };
for (let i = 0; i < runs; i++) {
  // Alternating, so that drift on a shared machine falls on both alike.
  for (const store of i % 2 === 0 ? (['external', 'embedded'] as const) : (['embedded', 'external'] as const)) measured[store].push(await once(store));
}
const median = (store: Store, pick: (f: Figures) => number) => measured[store].map(pick).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
const documentMiB = body.length / 2 ** 20;
const row = (label: string, pick: (f: Figures) => number, unit: (v: number) => string) => {
  const [ext, emb] = [median('external', pick), median('embedded', pick)];
  return `| ${label} | ${unit(ext)} | ${unit(emb)} | ${(emb / ext).toFixed(2)}× |`;
};
process.stdout.write(
  [
    `\nEU SNAPSHOT over HTTP to mragw start, ${records} records (${documentMiB.toFixed(1)} MiB), median of ${runs}:`,
    '| measure | external PostgreSQL | embedded PostgreSQL | embedded ÷ external |',
    '| --- | --- | --- | --- |',
    row('time to the 202', (f) => f.to202, (v) => `${v.toFixed(2)} s`),
    row('time until applied', (f) => f.toApplied, (v) => `${v.toFixed(2)} s`),
    row('gateway memory growth', (f) => f.growthMiB, (v) => `${v.toFixed(0)} MiB (${(v / documentMiB).toFixed(1)}× the document)`),
    row('longest event-loop block, from the POST until applied', (f) => f.longestBlock, (v) => `${v.toFixed(2)} s`),
    `status polls reset during the apply (every 200 ms): external ${median('external', (f) => f.resets)}, embedded ${median('embedded', (f) => f.resets)}`,
    '',
  ].join('\n'),
);
