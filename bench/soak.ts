/**
 * `npm run soak`: a gateway (`mragw start`, its own process, as the bench starts it) under
 * a steady mixed load for a while, to see that its memory and open handles stay flat.
 *
 *   --minutes N      how long the steady load runs (default 10; 0.5 to try the script)
 *   --rate R         requests per second; default half the capacity measured at the start
 *   --capacity C     take C requests/s as the capacity instead of measuring it
 *   --postgres URL   a scratch database on this PostgreSQL (the role needs CREATEDB);
 *                    else the gateway's embedded one
 *   --json FILE      where the figures go (default bench/soak-results.json)
 *
 * The mix, in every 20 requests: 8 signed 1-record DELTAs (each the partner's next
 * sequence, taken when sent), 6 status look-ups of operators held (200) and 6 of
 * well-formed numbers not held (404); and once a minute a 1,000-operator SNAPSHOT (also
 * the next sequence). Capacity: 32 clients in a closed loop on that mix for 20 s, the
 * first 5 s a warm-up, the rate of the last 15 s (32, not the bench's 64: even at 48 the
 * gateway answered some connections 503 `busy`, its cap being 64 per address; 32 clients
 * keep it saturated, with a mean wait of over 300 ms). A batch refused 503 or 429 is sent
 * again (see `send`) and counted as resent; its first answer still counts. The steady
 * load is open-loop: request i is due at i ÷ rate seconds, at most 48 in flight; a
 * request sent more than 100 ms after it was due (held back by that cap) is counted as
 * late, and every latency runs from when the request was due.
 *
 * The gateway's /metrics is read every 2 s and folded into one row per sample period
 * (10 s; shorter for runs under 2.5 minutes, so that a short run still has rows): the
 * last read of each figure, and the lowest heap used of the row's reads.
 *
 * Verdict. The first fifth of the rows (at least one) is warm-up and not judged; the rest
 * is cut in thirds. A quantity is flat when its lowest read in the last third is at most
 * 1.1 × its lowest in the first third (for handles and descriptors, small counts, 1.1 ×
 * plus 2). The lowest, because heap used is a saw-tooth between collections (tens of MiB
 * within seconds at this load) and handles follow the connections in flight: over a third
 * of the run (minutes, many collections) the lowest heap is the heap just after a
 * collection, the live data, and the lowest handle count the gateway's own servers, pools
 * and timers with the fewest sockets; a leak lifts both, load and collection timing do
 * not. Judged for heap used, resident memory, active handles and open file descriptors;
 * each third's highest and median and a least-squares slope over the judged rows (per 10
 * minutes) are given beside it, for the record. Any 5xx or unanswered request during the
 * steady load fails the verdict; other answers than the expected 202/200/404 (429
 * included) are counted and reported. Exit code 1 on a failed verdict.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { euSnapshot } from './documents.ts';
import { createDatabase, ingest, partnerKey, startGateway, type RunningGateway } from './lib/gateway.ts';
import { latenciesOf, load } from './lib/load.ts';
import { signRequest } from '../src/sign/request-signature.ts';

const { values: flags } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, rate: { type: 'string' }, capacity: { type: 'string' }, postgres: { type: 'string' }, json: { type: 'string' } },
  strict: true,
});
const minutes = Number(flags.minutes);
const givenRate = flags.rate === undefined ? undefined : Number(flags.rate);
const givenCapacity = flags.capacity === undefined ? undefined : Number(flags.capacity);
for (const [name, value] of [['--minutes', minutes], ['--rate', givenRate], ['--capacity', givenCapacity]] as const) {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    process.stderr.write(`soak: ${name} wants a positive number\n`);
    process.exit(64);
  }
}
const jsonFile = flags.json ?? fileURLToPath(new URL('./soak-results.json', import.meta.url));
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const operators = 1_000;
const maxInFlight = 48;
const capacityClients = 32;
const scrapeSeconds = 2;
const seconds = minutes * 60;
// 10 s rows, or 15 rows or more for a short run.
const rowSeconds = Math.max(scrapeSeconds, Math.min(10, Math.floor(seconds / 15 / scrapeSeconds) * scrapeSeconds));

type Kind = 'delta' | 'hit' | 'miss' | 'snapshot';

/** What request i of the mix is (the SNAPSHOTs are sent apart, by time). */
const kindOf = (i: number): Kind => {
  const k = i % 20;
  return k < 8 ? 'delta' : k < 14 ? 'hit' : 'miss';
};

/** Counts of answers by outcome over a span (one row, or the whole run). */
class Tally {
  sent = 0;
  late = 0;
  byStatus = new Map<string, number>();
  latencies: number[] = [];
  add(status: string, ms: number) {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    this.latencies.push(ms);
  }
  count(test: (status: string) => boolean) {
    let n = 0;
    for (const [status, c] of this.byStatus) if (test(status)) n += c;
    return n;
  }
}

const expected = (kind: Kind, status: number) => (kind === 'delta' || kind === 'snapshot' ? status === 202 : kind === 'hit' ? status === 200 : status === 404);

const partner = partnerKey();
const database = flags.postgres ? await createDatabase(flags.postgres) : undefined;
// The per-address limit on status look-ups would otherwise answer most of them 429.
const gateway = await startGateway({ partner, redisUrl, databaseUrl: database?.url, env: { STATUS_REQUESTS_PER_MINUTE: '100000000' } });
const run = Date.now().toString(36);
let sequence = 1;
// Answers other than the expected ones, by kind and status: the capacity run's, then the steady load's.
let unexpectedByKind = new Map<string, number>();
let resent = 0;
const lostSequences: number[] = [];

/** Sends one request of `kind`; its status, or 'error' when no answer came. */
async function send(kind: Kind, i: number): Promise<string> {
  if (kind === 'hit' || kind === 'miss') {
    const n = Math.floor(i / 20) % operators;
    const number = kind === 'hit' ? n : 9_000_000_000 + n;
    return answered(kind, () => fetch(`${gateway.url}/v1/status/eu-aeo/DEAEOF${String(number).padStart(10, '0')}`));
  }
  const next = ++sequence;
  const body = Buffer.from(kind === 'delta' ? euSnapshot(1, { batchId: `EU-SOAK-${run}-${next}`, sequence: next, type: 'DELTA', street: next }) : euSnapshot(operators, { batchId: `EU-SOAK-${run}-${next}`, sequence: next, street: next }));
  const post = () => {
    const signature = signRequest({ key: partner.key, iss: 'EU', aud: 'US-CBP-DEV', method: 'POST', target: '/v1/exchanges', body });
    return fetch(`${gateway.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
  };
  const first = await answered(kind, post);
  // A batch refused before it was read (503 busy, 429) is sent again, newly signed, as a partner
  // would: a sequence number left unsent would hold every later batch, unapplied, for ever.
  let status = first;
  for (let attempt = 1; (status === '503' || status === '429') && attempt <= 10; attempt++) {
    resent++;
    await new Promise((r) => setTimeout(r, 100 * attempt));
    status = await answered(kind, post);
  }
  if (status !== '202') lostSequences.push(next);
  return first;
}

/** Makes a request; its status, or 'error' when no answer came; an unexpected answer is counted by kind, status and problem. */
async function answered(kind: Kind, request: () => Promise<Response>): Promise<string> {
  try {
    const response = await request();
    const text = await response.text();
    if (!expected(kind, response.status)) {
      // Which problem (urn:mra:problem:<slug>), so that a 503 `busy` is told from a 503 of the store.
      const slug = /urn:mra:problem:([\w-]+)/.exec(text)?.[1] ?? '';
      const key = `${kind} ${response.status} ${slug}`.trim();
      unexpectedByKind.set(key, (unexpectedByKind.get(key) ?? 0) + 1);
    }
    return String(response.status);
  } catch {
    return 'error';
  }
}

/** The gateway's metrics: unlabelled values by name, and labelled series summed by a filter. */
async function scrape(target: RunningGateway) {
  const text = await (await fetch(target.metricsUrl)).text();
  const series: { name: string; labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) series.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  const one = (name: string) => series.find((s) => s.name === `mragw_${name}` && s.labels === '')?.value ?? Number.NaN;
  const sum = (name: string, filter: (labels: string) => boolean = () => true) => series.filter((s) => s.name === `mragw_${name}` && filter(s.labels)).reduce((n, s) => n + s.value, 0);
  return {
    rssMiB: one('process_resident_memory_bytes') / 2 ** 20,
    heapUsedMiB: one('nodejs_heap_size_used_bytes') / 2 ** 20,
    heapTotalMiB: one('nodejs_heap_size_total_bytes') / 2 ** 20,
    externalMiB: one('nodejs_external_memory_bytes') / 2 ** 20,
    handles: one('nodejs_active_handles_total'),
    requests: one('nodejs_active_requests_total'),
    openFds: one('process_open_fds'),
    lagMaxMs: one('nodejs_eventloop_lag_max_seconds') * 1000,
    lagP99Ms: one('nodejs_eventloop_lag_p99_seconds') * 1000,
    outboxPending: one('outbox_pending'),
    queueWaiting: sum('queue_jobs', (l) => /state="(waiting|delayed|active)"/.test(l)),
    queueFailed: sum('queue_jobs', (l) => /state="failed"/.test(l)),
    queues: Object.fromEntries(series.filter((s) => s.name === 'mragw_queue_jobs' && s.value > 0).map((s) => [`${/queue="([^"]*)"/.exec(s.labels)?.[1]}/${/state="([^"]*)"/.exec(s.labels)?.[1]}`, s.value])),
    jobsEnded: sum('job_latency_seconds_count'),
    http2xx: sum('http_requests_total', (l) => /status="2/.test(l)),
    http4xx: sum('http_requests_total', (l) => /status="4/.test(l)),
    http5xx: sum('http_requests_total', (l) => /status="5/.test(l)),
    exchanges: Object.fromEntries(series.filter((s) => s.name === 'mragw_exchanges_total').map((s) => [/outcome="([^"]*)"/.exec(s.labels)?.[1] ?? s.labels, s.value])),
  };
}
type Scrape = Awaited<ReturnType<typeof scrape>>;

interface Row {
  t: number;
  sentPerSecond: number;
  late: number;
  unexpected: number;
  failed: number;
  p99Ms: number;
  rssMiB: number;
  heapLowMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  handles: number;
  requests: number;
  openFds: number;
  lagMaxMs: number;
  outboxPending: number;
  queueWaiting: number;
  queueFailed: number;
  /** Jobs per queue and state, where any. */
  queues: Record<string, number>;
  /** Jobs ended (completed or failed for good) per second over the row. */
  jobsPerSecond: number;
  http5xx: number;
}

const whole = new Tally();
const rows: Row[] = [];
let capacity = givenCapacity;
let rate = givenRate;
let capacityDetail: Record<string, unknown> | undefined;
const startedAt = new Date().toISOString();
const loadAtStart = loadavg();
let before: Scrape | undefined;
let after: Scrape | undefined;
try {
  await ingest(gateway, partner, Buffer.from(euSnapshot(operators, { batchId: `EU-SOAK-${run}-1`, sequence: 1 })));
  if (rate === undefined && capacity === undefined) {
    process.stdout.write(`soak: measuring capacity, ${capacityClients} clients for 20 s on the mix…\n`);
    const capacityStatuses = new Map<string, number>();
    const ask = async (i: number) => {
      const kind = kindOf(i);
      const status = await send(kind, i);
      capacityStatuses.set(status, (capacityStatuses.get(status) ?? 0) + 1);
      return expected(kind, Number(status));
    };
    const warm = await load(capacityClients, 5, ask);
    const measured = await load(capacityClients, 15, ask, undefined, warm.requests);
    capacity = measured.perSecond;
    capacityDetail = { clients: capacityClients, warmUpSeconds: 5, seconds: 15, perSecond: measured.perSecond, p99Ms: measured.p99Ms, unexpected: warm.unexpected + measured.unexpected, statuses: Object.fromEntries(capacityStatuses), unexpectedByKind: Object.fromEntries(unexpectedByKind) };
    unexpectedByKind = new Map();
  }
  rate ??= capacity! / 2;
  process.stdout.write(`soak: capacity ${capacity === undefined ? 'not measured' : `${capacity.toFixed(0)}/s`}; ${rate.toFixed(0)} requests/s for ${minutes} min, a row every ${rowSeconds} s\n`);
  before = await scrape(gateway);
  await steady(rate);
  after = await scrape(gateway);
  // The verdict before the gateway is stopped, so that it stands even if the gateway does not stop.
  report();
} finally {
  // Leaked handles can keep a process from ending on SIGTERM: say so rather than wait in silence.
  const watchdog = setTimeout(() => {
    process.stdout.write(`soak: the gateway (pid ${gateway.pid}) has not exited 60 s after SIGTERM; still waiting\n`);
    process.exitCode = 1;
  }, 60_000);
  await gateway.stop();
  clearTimeout(watchdog);
  gateway.dispose();
  await database?.drop();
}

/** The open-loop load at `perSecond` for `seconds`, with a row of figures every `rowSeconds`. */
async function steady(perSecond: number) {
  const started = performance.now();
  const until = started + seconds * 1000;
  let row = new Tally();
  let reads: Scrape[] = [];
  let inFlight = 0;
  let i = 1_000_000; // apart from the capacity run's numbering
  let due = 0; // requests due so far
  let nextSnapshot = started + 60_000;
  let nextScrape = started + scrapeSeconds * 1000;
  let nextRow = started + rowSeconds * 1000;
  let lastRowAt = started;
  let jobsEnded = before!.jobsEnded;
  const pending = new Set<Promise<void>>();
  const fire = (kind: Kind, dueAt: number) => {
    inFlight++;
    row.sent++;
    whole.sent++;
    // Held back by the cap on requests in flight (or a stalled driver): its latency still runs from when it was due.
    if (performance.now() - dueAt > 100) {
      row.late++;
      whole.late++;
    }
    const p = send(kind, i++).then((status) => {
      const ms = performance.now() - dueAt;
      row.add(status, ms);
      whole.add(status, ms);
      inFlight--;
      pending.delete(p);
    });
    pending.add(p);
  };
  for (let now = performance.now(); now < until; now = performance.now()) {
    const owed = Math.floor(((now - started) / 1000) * perSecond);
    while (due < owed && inFlight < maxInFlight) fire(kindOf(i), started + (due++ * 1000) / perSecond);
    if (now >= nextSnapshot) {
      fire('snapshot', now);
      nextSnapshot += 60_000;
    }
    if (now >= nextScrape) {
      nextScrape += scrapeSeconds * 1000;
      reads.push(await scrape(gateway));
    }
    if (now >= nextRow && reads.length > 0) {
      nextRow += rowSeconds * 1000;
      const last = reads.at(-1)!;
      const span = (now - lastRowAt) / 1000;
      lastRowAt = now;
      rows.push({
        t: Math.round((now - started) / 1000),
        sentPerSecond: row.sent / span,
        late: row.late,
        unexpected: row.count((s) => !['200', '202', '404'].includes(s)),
        failed: row.count((s) => s === 'error' || s.startsWith('5')),
        p99Ms: latenciesOf(row.latencies).p99Ms,
        rssMiB: last.rssMiB,
        heapLowMiB: Math.min(...reads.map((r) => r.heapUsedMiB)),
        heapUsedMiB: last.heapUsedMiB,
        heapTotalMiB: last.heapTotalMiB,
        externalMiB: last.externalMiB,
        handles: last.handles,
        requests: last.requests,
        openFds: last.openFds,
        lagMaxMs: Math.max(...reads.map((r) => r.lagMaxMs)),
        outboxPending: last.outboxPending,
        queueWaiting: last.queueWaiting,
        queueFailed: last.queueFailed,
        queues: last.queues,
        jobsPerSecond: (last.jobsEnded - jobsEnded) / span,
        http5xx: last.http5xx,
      });
      jobsEnded = last.jobsEnded;
      printRow(rows.at(-1)!);
      row = new Tally();
      reads = [];
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
}

function printRow(r: Row) {
  if (rows.length === 1) process.stdout.write('     t  sent/s  late  unexp  fail  p99ms  rssMiB  heapLow  heapUsed  handles  fds  reqs  lagMaxMs  queued  jobs/s  outbox\n');
  const f = (v: number, w: number, d = 0) => v.toFixed(d).padStart(w);
  process.stdout.write(`${f(r.t, 6)}  ${f(r.sentPerSecond, 6)}  ${f(r.late, 4)}  ${f(r.unexpected, 5)}  ${f(r.failed, 4)}  ${f(r.p99Ms, 5)}  ${f(r.rssMiB, 6, 1)}  ${f(r.heapLowMiB, 7, 1)}  ${f(r.heapUsedMiB, 8, 1)}  ${f(r.handles, 7)}  ${f(r.openFds, 3)}  ${f(r.requests, 4)}  ${f(r.lagMaxMs, 8, 1)}  ${f(r.queueWaiting, 6)}  ${f(r.jobsPerSecond, 6)}  ${f(r.outboxPending, 6)}\n`);
}

interface Third {
  low: number;
  median: number;
  high: number;
}

interface Flatness {
  flat: boolean;
  first: Third;
  last: Third;
  /** The highest low the last third may have. */
  allowed: number;
  slopePer10Min: number;
}

function thirdOf(values: readonly number[]): Third {
  const sorted = [...values].sort((a, b) => a - b);
  return { low: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, high: sorted.at(-1)! };
}

/** The last third's lowest value against the first third's (after the warm-up); and the fitted slope. */
function flatness(values: readonly number[], times: readonly number[], slack: number): Flatness {
  const third = Math.floor(values.length / 3);
  const first = thirdOf(values.slice(0, third));
  const last = thirdOf(values.slice(values.length - third));
  const allowed = first.low * 1.1 + slack;
  const mt = times.reduce((a, b) => a + b, 0) / times.length;
  const mv = values.reduce((a, b) => a + b, 0) / values.length;
  const slope = times.reduce((n, t, k) => n + (t - mt) * (values[k]! - mv), 0) / times.reduce((n, t) => n + (t - mt) ** 2, 0);
  return { flat: last.low <= allowed, first, last, allowed, slopePer10Min: slope * 600 };
}

/** The verdict: printed, and written with every row as JSON. */
function report() {
  const warmUpRows = Math.max(1, Math.round(rows.length / 5));
  const judged = rows.slice(warmUpRows);
  const times = judged.map((r) => r.t);
  const enough = judged.length >= 6;
  const checks = enough
    ? {
        heapLowMiB: flatness(judged.map((r) => r.heapLowMiB), times, 0),
        rssMiB: flatness(judged.map((r) => r.rssMiB), times, 0),
        handles: flatness(judged.map((r) => r.handles), times, 2),
        openFds: flatness(judged.map((r) => r.openFds), times, 2),
      }
    : undefined;
  const failed = whole.count((s) => s === 'error' || s.startsWith('5'));
  const gateway5xx = (after?.http5xx ?? 0) - (before?.http5xx ?? 0);
  const memoryFlat = checks ? checks.heapLowMiB.flat && checks.rssMiB.flat : undefined;
  const handlesFlat = checks ? checks.handles.flat && checks.openFds.flat : undefined;
  // A batch never accepted leaves a gap that holds every later one: the applies would stop and the soak no longer be one.
  const passed = failed === 0 && gateway5xx === 0 && lostSequences.length === 0 && memoryFlat === true && handlesFlat === true;
  const jobsEnded = (after?.jobsEnded ?? 0) - (before?.jobsEnded ?? 0);
  const at = (k: number) => rows[Math.min(rows.length - 1, Math.max(0, k))];
  const points = rows.length === 0 ? {} : { start: at(0), middle: at(Math.floor(rows.length / 2)), end: at(rows.length - 1) };
  const latencies = latenciesOf(whole.latencies);

  const mib = (v: number) => `${v.toFixed(1)} MiB`;
  const told = (name: string, c: Flatness, unit: (v: number) => string) =>
    `  ${name}: ${c.flat ? 'flat' : 'GROWING'} — lowest in the last third ${unit(c.last.low)}, in the first ${unit(c.first.low)} (allowed ${unit(c.allowed)}); ` +
    `median ${unit(c.first.median)} → ${unit(c.last.median)}, highest ${unit(c.first.high)} → ${unit(c.last.high)}; slope ${unit(c.slopePer10Min)} per 10 min\n`;
  process.stdout.write(
    `soak: ${whole.sent} requests in ${minutes} min at ${rate!.toFixed(0)}/s (capacity ${capacity === undefined ? 'not measured' : `${capacity.toFixed(0)}/s`}); p50 ${latencies.p50Ms.toFixed(1)} ms, p99 ${latencies.p99Ms.toFixed(1)} ms; ` +
      `answers ${JSON.stringify(Object.fromEntries(whole.byStatus))}; late ${whole.late}; 5xx or no answer ${failed} (gateway's own 5xx count ${gateway5xx})\n` +
      `  batches resent after 503/429 ${resent}, never accepted ${lostSequences.length}; jobs ended during the load ${jobsEnded}, queued at the end ${after?.queueWaiting ?? 'unknown'} ${JSON.stringify(after?.queues ?? {})}\n` +
      (unexpectedByKind.size > 0 ? `  unexpected answers: ${JSON.stringify(Object.fromEntries(unexpectedByKind))}\n` : '') +
      (capacityDetail && Object.keys(capacityDetail['unexpectedByKind'] as object).length > 0 ? `  unexpected answers while measuring capacity: ${JSON.stringify(capacityDetail['unexpectedByKind'])}\n` : '') +
      (checks
        ? told('heap used', checks.heapLowMiB, mib) + told('resident memory', checks.rssMiB, mib) + told('active handles', checks.handles, (v) => v.toFixed(1)) + told('open file descriptors', checks.openFds, (v) => v.toFixed(1))
        : `  too few rows after the warm-up (${judged.length}, want 6) to judge memory and handles\n`) +
      `soak verdict: ${passed ? 'PASS' : 'FAIL'} (${lostSequences.length > 0 ? `batches never accepted ${lostSequences.join(', ')}, ` : ''}memory ${memoryFlat === undefined ? 'not judged' : memoryFlat ? 'flat' : 'growing'}, handles ${handlesFlat === undefined ? 'not judged' : handlesFlat ? 'flat' : 'growing'}, ${failed + gateway5xx === 0 ? 'no 5xx' : '5xx or failures seen'})\n`,
  );
  writeFileSync(
    jsonFile,
    `${JSON.stringify(
      {
        startedAt, endedAt: new Date().toISOString(), loadAverageAtStart: loadAtStart.map((l) => Number(l.toFixed(2))), loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
        options: { minutes, rate, capacity, capacityMeasured: capacityDetail, store: flags.postgres ? 'external PostgreSQL' : 'embedded PostgreSQL', operators, maxInFlight, rowSeconds, scrapeSeconds },
        totals: { sent: whole.sent, late: whole.late, statuses: Object.fromEntries(whole.byStatus), unexpected: Object.fromEntries(unexpectedByKind), failed, gateway5xx, resent, lostSequences, jobsEnded, queuedAtEnd: after?.queues, p50Ms: latencies.p50Ms, p99Ms: latencies.p99Ms, exchangesBefore: before?.exchanges, exchangesAfter: after?.exchanges },
        verdict: { passed, memoryFlat, handlesFlat, warmUpRows, checks, criterion: 'after the warm-up (first fifth of rows), the lowest read of the last third <= 1.1 x the lowest of the first third (+2 for handles and fds); any 5xx or unanswered request in the steady load, or a batch never accepted, fails' },
        points,
        rows,
      },
      null,
      2,
    )}\n`,
  );
  if (!passed) process.exitCode = 1;
}
