/**
 * `npm run bench` (third part): a large EU SNAPSHOT signed and POSTed over HTTP to a
 * whole gateway (`mragw start`, its own process), once on each store: the embedded
 * default and an external PostgreSQL. Reports, per store and as a ratio of embedded to
 * external measured in the same run: time to the 202, time until `applied`, the
 * gateway's memory growth, and the longest event-loop block from the POST until applied
 * (intake and apply run in the one process, as `npm start` runs them).
 *
 * BENCH_INGEST_RECORDS (default 100,000), BENCH_INGEST_RUNS (default 1; the median is
 * shown), BENCH_ADMIN_DATABASE_URL (default the local server CI starts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { signRequest, type SigningKey } from '../src/sign/request-signature.ts';
import { removeRelocatedCluster } from '../src/store/embedded-postgres.ts';
import { euSnapshot } from './documents.ts';

const records = Number(process.env['BENCH_INGEST_RECORDS'] ?? 100_000);
const runs = Number(process.env['BENCH_INGEST_RUNS'] ?? 1);
const adminUrl = process.env['BENCH_ADMIN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const cli = new URL('../src/cli/mragw.ts', import.meta.url).pathname;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key: SigningKey = { privateJwk: { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256' }, alg: 'ES256' };
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
  const dataDir = mkdtempSync(join(tmpdir(), 'mragw-bench-ingest-'));
  const partners = join(dataDir, 'partners');
  mkdirSync(partners);
  writeFileSync(
    join(partners, 'eu.yaml'),
    JSON.stringify({
      id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo',
      mra: { signed: '2012-05-04', scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations'] },
      keys: { algorithms: ['ES256'], jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' }] } },
      limits: { maxBodyBytes: 256 * 1024 * 1024, requestsPerMinute: 100_000 },
    }),
  );
  const database = store === 'external' ? await createDatabase() : undefined;
  const prefix = `{mragw-bench-${randomBytes(5).toString('hex')}}`;
  const env = { ...process.env, DATA_DIR: dataDir, PARTNERS_DIR: partners, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn', REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, ...(database && { DATABASE_URL: database.url }) };
  const gateway = spawn(process.execPath, ['--import', 'tsx', cli, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const { url, metricsUrl } = await listening(gateway);
    await fetch(metricsUrl); // prom-client resets the event-loop histogram at each scrape
    const baseline = rssMiB(gateway.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(gateway.pid!))), 25);
    gateway.once('exit', () => clearInterval(sampler));

    const started = performance.now();
    const signature = signRequest({ key, iss: 'EU', aud: 'US-CBP-DEV', method: 'POST', target: '/v1/exchanges', body });
    const response = await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
    const to202 = (performance.now() - started) / 1000;
    if (response.status !== 202) throw new Error(`the gateway answered ${response.status}: ${await response.text()}`);
    const { exchangeId } = (await response.json()) as { exchangeId: string };
    let resets = 0;
    for (;;) {
      const path = `/v1/exchanges/${exchangeId}`;
      const get = signRequest({ key, iss: 'EU', aud: 'US-CBP-DEV', method: 'GET', target: path, body: Buffer.alloc(0) });
      // A kept-alive connection the blocked server closes late is reset; a client retries a GET.
      const answer = await fetch(`${url}${path}`, { headers: { 'JWS-Signature': get } }).catch(() => undefined);
      if (answer === undefined) {
        resets++;
        continue;
      }
      const view = (await answer.json()) as { state: string };
      if (view.state === 'applied') break;
      if (view.state === 'failed') throw new Error('the apply failed');
      await new Promise((r) => setTimeout(r, 200));
    }
    const toApplied = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const metrics = await (await fetch(metricsUrl)).text();
    const longestBlock = Number(/^mragw_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN);
    return { to202, toApplied, growthMiB: peak - baseline, longestBlock, resets };
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    await database?.drop();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    removeRelocatedCluster(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function listening(child: ChildProcess): Promise<{ url: string; metricsUrl: string }> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
      const m = /listening on (\S+) \(metrics (\S+)\)/.exec(stderr);
      if (m) resolve({ url: m[1]!, metricsUrl: m[2]! });
    });
    child.once('exit', (code, signal) => {
      const error = new Error(`mragw start exited with ${code ?? signal}: ${stderr}`);
      reject(error);
      if (!child.killed) process.stderr.write(`${error.message}\n`);
    });
  });
}

function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0; // the process has ended; the run reports why
  }
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mragw_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(sql); // eslint-disable-line no-restricted-syntax -- the benchmark makes its own database, as the tests do
    await client.end();
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
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
