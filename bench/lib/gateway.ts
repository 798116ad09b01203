/**
 * A whole gateway (`mragw start`, its own process) for the benchmarks, with one partner
 * (EU) whose signing key the bench holds: start it, send it a signed SNAPSHOT over HTTP,
 * follow it until applied, and watch its memory from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { signRequest, type SigningKey } from '../../src/sign/request-signature.ts';
import { removeRelocatedCluster } from '../../src/store/embedded-postgres.ts';

const cli = new URL('../../src/cli/mragw.ts', import.meta.url).pathname;

/** The EU partner's key pair: the bench signs with the private half, the gateway trusts the public one. */
export interface PartnerKey {
  key: SigningKey;
  publicJwk: Record<string, unknown>;
}

export function partnerKey(): PartnerKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    key: { privateJwk: { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256' }, alg: 'ES256' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' },
  };
}

export interface RunningGateway {
  url: string;
  metricsUrl: string;
  pid: number;
  /** Its DATA_DIR: the embedded store lives there (reopen it after `stop` to measure on the same server). */
  dataDir: string;
  /** SIGTERM, then the queue's Redis keys go (once, however often called). */
  stop(): Promise<void>;
  /** Removes DATA_DIR and any relocated cluster (after `stop`, and after any reopening of its store). */
  dispose(): void;
}

/** Starts `mragw start` on a fresh DATA_DIR, on `databaseUrl` or else its embedded PostgreSQL. */
export async function startGateway(options: { partner: PartnerKey; redisUrl: string; databaseUrl?: string | undefined; env?: Record<string, string> }): Promise<RunningGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mragw-bench-ingest-'));
  const partners = join(dataDir, 'partners');
  mkdirSync(partners);
  writeFileSync(
    join(partners, 'eu.yaml'),
    JSON.stringify({
      id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo',
      mra: { signed: '2012-05-04', scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations'] },
      keys: { algorithms: ['ES256'], jwks: { keys: [options.partner.publicJwk] } },
      limits: { maxBodyBytes: 256 * 1024 * 1024, requestsPerMinute: 100_000 },
    }),
  );
  const prefix = `{mragw-bench-${randomBytes(5).toString('hex')}}`;
  // Every client of a bench is this one address, as many partners behind one proxy would be: the per-address connection cap is lifted like the rate limits.
  const env = { ...process.env, DATA_DIR: dataDir, PARTNERS_DIR: partners, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn', REDIS_URL: options.redisUrl, QUEUE_PREFIX: prefix, CONNECTIONS_PER_ADDRESS: '100000', ...(options.databaseUrl && { DATABASE_URL: options.databaseUrl }), ...options.env };
  // BENCH_GATEWAY_CPU_PROF=dir: the gateway writes a V8 CPU profile there when it stops (to find where a scenario's CPU goes).
  const profileDir = process.env['BENCH_GATEWAY_CPU_PROF'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const gateway = spawn(process.execPath, [...profile, '--import', 'tsx', cli, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((r) => gateway.once('exit', r));
  const dispose = () => {
    removeRelocatedCluster(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  };
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stopOnce());
  const stopOnce = async () => {
    gateway.kill('SIGTERM');
    await exited;
    const redis = new Redis(options.redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  };
  try {
    const { url, metricsUrl } = await listening(gateway);
    return { url, metricsUrl, pid: gateway.pid!, dataDir, stop, dispose };
  } catch (error) {
    await stop();
    dispose();
    throw error;
  }
}

export interface IngestTimes {
  /** Seconds from the first byte sent to the 202. */
  to202: number;
  /** Seconds from the first byte sent until the exchange reads `applied`. */
  toApplied: number;
  /** Status polls whose connection was reset while the gateway applied. */
  resets: number;
  /** The exchange as the gateway reports it once applied (its counts say what the apply did). */
  view: { state: string; counts?: Record<string, number> };
}

/** POSTs `body` as partner EU, then polls the exchange every 200 ms until it is applied; `answered` runs at the 202, before the polling. */
export async function ingest(gateway: RunningGateway, partner: PartnerKey, body: Buffer, answered?: () => Promise<void>): Promise<IngestTimes> {
  const { key } = partner;
  const started = performance.now();
  const signature = signRequest({ key, iss: 'EU', aud: 'US-CBP-DEV', method: 'POST', target: '/v1/exchanges', body });
  const response = await fetch(`${gateway.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
  const to202 = (performance.now() - started) / 1000;
  if (response.status !== 202) throw new Error(`the gateway answered ${response.status}: ${await response.text()}`);
  const { exchangeId } = (await response.json()) as { exchangeId: string };
  await answered?.();
  let resets = 0;
  for (;;) {
    const path = `/v1/exchanges/${exchangeId}`;
    const get = signRequest({ key, iss: 'EU', aud: 'US-CBP-DEV', method: 'GET', target: path, body: Buffer.alloc(0) });
    // A kept-alive connection the blocked server closes late is reset; a client retries a GET.
    const answer = await fetch(`${gateway.url}${path}`, { headers: { 'JWS-Signature': get } }).catch(() => undefined);
    if (answer === undefined) {
      resets++;
      continue;
    }
    const view = (await answer.json()) as IngestTimes['view'];
    if (view.state === 'applied') return { to202, toApplied: (performance.now() - started) / 1000, resets, view };
    if (view.state === 'failed') throw new Error('the apply failed');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The longest event-loop block since the last scrape (prom-client resets it at each scrape), in seconds. */
export async function longestBlockSinceLastScrape(gateway: RunningGateway): Promise<number> {
  const metrics = await (await fetch(gateway.metricsUrl)).text();
  return Number(/^mragw_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN);
}

/** Samples a process's resident memory every 25 ms; `stop` returns the peak, in MiB, and `peak` the peak so far. */
export function rssPeak(pid: number): { peak(): number; stop(): number } {
  let peak = rssMiB(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 25);
  return {
    peak: () => Math.max(peak, rssMiB(pid)),
    stop() {
      clearInterval(sampler);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

/** A process's resident memory now, in MiB (0 once it has ended). */
export function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0; // the process has ended; the run reports why
  }
}

/** A scratch database on the server at `adminUrl` (the role needs CREATEDB), dropped by `drop`. */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
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
