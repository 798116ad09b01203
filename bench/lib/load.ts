/**
 * HTTP load for the request-rate scenarios: `concurrency` clients, each sending its next
 * request as soon as the last is answered, for `seconds`; the rate and the 99th
 * percentile of latency. And the floor's server: a bare express handler in a process of
 * its own, as the gateway is.
 */
import { spawn } from 'node:child_process';

export interface LoadResult {
  perSecond: number;
  p99Ms: number;
  requests: number;
  /** Answers whose status was not one `ok` expected. */
  unexpected: number;
}

/** Runs the load; `request(i)` makes the i-th request and says whether its answer was as expected. */
export async function load(concurrency: number, seconds: number, request: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let unexpected = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        if (!(await request(next++))) unexpected++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / elapsed, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN, requests: latencies.length, unexpected };
}

/** A bare express app in its own process answering `GET <path>` with a small JSON body; stop() ends it. */
export async function bareServer(): Promise<{ url: string; stop(): void }> {
  const script = `
    const express = require('express');
    const app = express();
    app.get('/v1/status/:scheme/:id', (req, res) => res.json({ subject: { sub: req.params.scheme + ':' + req.params.id, status: 'active' } }));
    const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: new URL('../..', import.meta.url).pathname });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(data.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the bare server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
