/**
 * HTTP load for the request-rate scenarios: `concurrency` clients, each sending its next
 * request as soon as the last is answered, for `seconds`; the rate and the 99th
 * percentile of latency. And the floor's server: a bare express handler in a process of
 * its own, as the gateway is.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface LoadResult {
  perSecond: number;
  p99Ms: number;
  requests: number;
  /** Answers whose status was not one `ok` expected. */
  unexpected: number;
  /** Every latency, ms, sorted (to pool several rounds). */
  latencies: number[];
  /** Latencies (ms) by the kind `kindOf` gave each request (hit, miss…), if given. */
  byKind: Record<string, number[]>;
}

export interface Latencies {
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** The median, 90th and 99th percentiles of `values` (ms). */
export function latenciesOf(values: readonly number[]): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(sorted.length * q)] ?? Number.NaN;
  return { requests: sorted.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99) };
}

/**
 * Runs the load; `request(i)` makes the i-th request and says whether its answer was as
 * expected; `kindOf(i)`, if given, names what kind of request it is, for latencies by kind.
 * `first` is the first i (several rounds can go on numbering where the last stopped).
 */
export async function load(concurrency: number, seconds: number, request: (i: number) => Promise<boolean>, kindOf?: (i: number) => string, first = 0): Promise<LoadResult> {
  const latencies: number[] = [];
  const kinds = new Map<string, number[]>();
  let next = first;
  let unexpected = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const i = next++;
        if (!(await request(i))) unexpected++;
        const ms = performance.now() - t;
        latencies.push(ms);
        if (kindOf !== undefined) {
          const kind = kindOf(i);
          const values = kinds.get(kind) ?? [];
          values.push(ms);
          kinds.set(kind, values);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const byKind = Object.fromEntries(kinds);
  return { perSecond: latencies.length / elapsed, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN, requests: latencies.length, unexpected, latencies, byKind };
}

/**
 * Open-loop load: request i is sent at `i / perSecond` seconds whether or not earlier
 * ones are answered, for `seconds`. Each latency runs from when the request was due, so
 * that a server falling behind is charged for the wait. With a closed loop of N clients
 * the mean latency is N ÷ rate whatever the server (Little's law); at a set rate below
 * saturation the latency is the server's own.
 */
export async function atRate(perSecond: number, seconds: number, request: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const started = performance.now();
  const count = Math.floor(perSecond * seconds);
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let unexpected = 0;
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      request(i).then((ok) => {
        if (!ok) unexpected++;
        latencies.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / elapsed, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN, requests: latencies.length, unexpected, latencies, byKind: {} };
}

/**
 * CPU seconds (user + system) a process and its descendants (an embedded PostgreSQL and
 * its backends) have used so far, from /proc: on a shared machine the CPU a server spends
 * per request holds better than its rate, which other work drags down.
 */
export function cpuSeconds(pid: number): number {
  const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((name) => stat(Number(name))).filter((p) => p !== undefined);
  const tree = new Set([pid]);
  // Parents come before their children often but not always: repeat until nothing joins.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of processes) {
      if (tree.has(p.pid) || !tree.has(p.ppid)) continue;
      tree.add(p.pid);
      grew = true;
    }
  }
  return processes.filter((p) => tree.has(p.pid)).reduce((sum, p) => sum + p.cpu, 0);
}

function stat(pid: number): { pid: number; ppid: number; cpu: number } | undefined {
  try {
    // After the command name in parentheses: state, ppid, … utime (14th field), stime (15th), in clock ticks of 1/100 s.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return { pid, ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return undefined; // ended meanwhile
  }
}

/** Runs one round of load, with the CPU milliseconds the server process tree `pid` spent per request. */
export async function measuredRound(pid: number, round: () => Promise<LoadResult>): Promise<LoadResult & { cpuMsPerRequest: number }> {
  const before = cpuSeconds(pid);
  const result = await round();
  return { ...result, cpuMsPerRequest: ((cpuSeconds(pid) - before) * 1000) / result.requests };
}

/**
 * A bare express app in its own process answering `GET /v1/status/…` with a small JSON
 * body, and `POST /v1/exchanges` by reading the body and answering 202 with a small JSON
 * body; stop() ends it.
 */
export async function bareServer(): Promise<{ url: string; pid: number; stop(): void }> {
  const script = `
    const express = require('express');
    const app = express();
    app.get('/v1/status/:scheme/:id', (req, res) => res.json({ subject: { sub: req.params.scheme + ':' + req.params.id, status: 'active' } }));
    let accepted = 0;
    app.post('/v1/exchanges', express.raw({ type: () => true, limit: '1mb' }), (req, res) => res.status(202).location('/v1/exchanges/' + ++accepted).json({ exchangeId: String(accepted), bytes: req.body.length }));
    const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: new URL('../..', import.meta.url).pathname });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(data.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the bare server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill() };
}
