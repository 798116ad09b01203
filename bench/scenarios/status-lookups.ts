/**
 * `status-lookups`: anonymous `GET /v1/status/…` per second from 64 clients, hits and
 * misses alternating, against a gateway holding an applied EU SNAPSHOT; the floor is a
 * bare express handler answering the same requests. Target: at least half the floor's
 * rate, and a p99 latency of at most 10 ms (in the JSON and on a line of its own). The
 * p99 is given twice: under the 64 clients, where by Little's law any server's mean
 * latency is 64 ÷ its rate (21 ms at 3,000/s), and at a set rate of half the gateway's.
 *
 * Hits cycle through the operators held and misses through as many well-formed numbers
 * that are not, so that both are asked again and again, as the cache is meant for. The
 * gateway and the floor are measured in alternating rounds, so that drift on a shared
 * machine falls on both alike. PROTOCOL §5 wants a miss to answer in the time of a hit:
 * their latencies (p50, p90, p99) are reported apart, with miss − hit and miss ÷ hit,
 * under the load and one request at a time, both the first time an identifier is asked
 * (nothing kept yet: every operator and as many misses, so the look-up itself is timed)
 * and again (kept).
 */
import { euSnapshot } from '../documents.ts';
import { ingest, partnerKey, startGateway } from '../lib/gateway.ts';
import { atRate, bareServer, latenciesOf, load, measuredRound, type Latencies } from '../lib/load.ts';
import { median, type Scenario } from '../lib/scenario.ts';

const concurrency = 64;

export const scenario: Scenario = {
  name: 'status-lookups',
  target: { ratioAtLeast: 0.5 },
  async measure(context) {
    const operators = context.quick ? 200 : 1_000;
    const rounds = context.quick ? 2 : 5;
    const roundSeconds = context.quick ? 1 : 2;
    const partner = partnerKey();
    // The per-address limit would otherwise answer most of the load with 429.
    const gateway = await startGateway({ partner, redisUrl: context.redisUrl, databaseUrl: context.postgres, env: { STATUS_REQUESTS_PER_MINUTE: '100000000' } });
    const bare = await bareServer();
    try {
      await ingest(gateway, partner, Buffer.from(euSnapshot(operators)));
      // Even i: an operator the gateway holds (200); odd i: a well-formed number it does not hold (404).
      const kindOf = (i: number) => (i % 2 === 0 ? 'hit' : 'miss');
      const number = (i: number) => (i % 2 === 0 ? (i / 2) % operators : 9_000_000_000 + ((i - 1) / 2) % operators);
      const path = (i: number) => `/v1/status/eu-aeo/DEAEOF${String(number(i)).padStart(10, '0')}`;
      const ask = (base: string) => async (i: number) => {
        const answer = await fetch(`${base}${path(i)}`);
        await answer.arrayBuffer();
        return answer.status === (i % 2 === 0 || base === bare.url ? 200 : 404);
      };
      // One at a time, before any load: every hit and miss asked for the first time (nothing kept), then again (kept).
      const coldPass = await oneAtATime(2 * operators, ask(gateway.url), kindOf);
      const warmPass = await oneAtATime(2 * operators, ask(gateway.url), kindOf);
      // Warm-up for the floor (the gateway's is the two passes above), so that both servers answer from a warm state.
      await everyOnce(2 * operators, ask(bare.url));
      const measured: Awaited<ReturnType<typeof measuredRound>>[] = [];
      const floors: typeof measured = [];
      for (let round = 0; round < rounds; round++) {
        measured.push(await measuredRound(gateway.pid, () => load(concurrency, roundSeconds, ask(gateway.url), kindOf)));
        floors.push(await measuredRound(bare.pid, () => load(concurrency, roundSeconds, ask(bare.url))));
      }
      // The p99 target at a set rate, half the gateway's own: 64 clients in a closed loop wait 64 ÷ rate on average on any server.
      const openRate = Math.round(median(measured.map((r) => r.perSecond)) / 2);
      const open = await atRate(openRate, roundSeconds * 2, ask(gateway.url));
      const openFloor = await atRate(openRate, roundSeconds * 2, ask(bare.url));
      const unexpected = measured.reduce((n, r) => n + r.unexpected, 0) + coldPass.unexpected + warmPass.unexpected + open.unexpected;
      if (unexpected > 0) throw new Error(`${unexpected} status answers were not the expected 200 or 404`);
      const pooled = (results: typeof measured) => latenciesOf(results.flatMap((r) => r.latencies));
      const kinds = (byKind: Record<string, number[]>) => compared(byKind['hit'] ?? [], byKind['miss'] ?? []);
      const hitMiss = {
        underLoad: kinds({ hit: measured.flatMap((r) => r.byKind['hit'] ?? []), miss: measured.flatMap((r) => r.byKind['miss'] ?? []) }),
        coldOneAtATime: kinds(coldPass.byKind),
        warmOneAtATime: kinds(warmPass.byKind),
      };
      const p99Ms = pooled(measured).p99Ms;
      const ms = (x: number) => x.toFixed(2);
      const told = (c: HitMiss) => `hit ${ms(c.hit.p50Ms)}/${ms(c.hit.p90Ms)}, miss ${ms(c.miss.p50Ms)}/${ms(c.miss.p90Ms)} (miss ÷ hit ${c.p50Ratio.toFixed(2)}/${c.p90Ratio.toFixed(2)})`;
      const cpu = median(measured.map((r) => r.cpuMsPerRequest));
      const floorCpu = median(floors.map((r) => r.cpuMsPerRequest));
      process.stdout.write(
        `  status-lookups: p99 ${ms(p99Ms)} ms with 64 clients (floor ${ms(pooled(floors).p99Ms)}), ${ms(open.p99Ms)} ms at ${openRate}/s (target ≤ 10; floor ${ms(openFloor.p99Ms)}); CPU per request ${cpu.toFixed(3)} ms (floor ${floorCpu.toFixed(3)}; ratio ${(floorCpu / cpu).toFixed(2)})\n` +
          `  status-lookups hit vs miss, p50/p90 ms: one at a time first asked ${told(hitMiss.coldOneAtATime)}; asked again ${told(hitMiss.warmOneAtATime)}; under load ${told(hitMiss.underLoad)}\n`,
      );
      return {
        value: { value: median(measured.map((r) => r.perSecond)), unit: 'requests/s' },
        floor: { value: median(floors.map((r) => r.perSecond)), unit: 'requests/s' },
        runs: rounds,
        detail: {
          concurrency, rounds, roundSeconds, operators, p99Ms, floorP99Ms: pooled(floors).p99Ms, p99TargetMs: 10,
          openLoop: { perSecond: openRate, seconds: roundSeconds * 2, p99Ms: open.p99Ms, p50Ms: latenciesOf(open.latencies).p50Ms, floorP99Ms: openFloor.p99Ms, floorP50Ms: latenciesOf(openFloor.latencies).p50Ms },
          cpuMsPerRequest: median(measured.map((r) => r.cpuMsPerRequest)), floorCpuMsPerRequest: median(floors.map((r) => r.cpuMsPerRequest)),
          cpuRatio: median(floors.map((r) => r.cpuMsPerRequest)) / median(measured.map((r) => r.cpuMsPerRequest)),
          rates: measured.map((r) => r.perSecond), floorRates: floors.map((r) => r.perSecond), roundRatios: measured.map((r, i) => r.perSecond / floors[i]!.perSecond),
          requests: measured.reduce((n, r) => n + r.requests, 0), floorRequests: floors.reduce((n, r) => n + r.requests, 0),
          hitMiss,
        },
      };
    } finally {
      bare.stop();
      await gateway.stop();
      gateway.dispose();
    }
  },
};

/** Requests 0 … count−1, each once, from `concurrency` clients. */
async function everyOnce(count: number, request: (i: number) => Promise<boolean>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await request(next++);
    }),
  );
}

/** Requests 0 … count−1 one after another; latencies (ms) by kind. */
async function oneAtATime(count: number, request: (i: number) => Promise<boolean>, kindOf: (i: number) => string) {
  const byKind: Record<string, number[]> = {};
  let unexpected = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    if (!(await request(i))) unexpected++;
    (byKind[kindOf(i)] ??= []).push(performance.now() - t);
  }
  return { unexpected, byKind };
}

/** Hits and misses of one run side by side: the spec wants a miss to take the time of a hit, so a ratio near 1. */
interface HitMiss {
  hit: Latencies;
  miss: Latencies;
  missMinusHitP50Ms: number;
  missMinusHitP90Ms: number;
  p50Ratio: number;
  p90Ratio: number;
}


function compared(hits: readonly number[], misses: readonly number[]): HitMiss {
  const hit = latenciesOf(hits);
  const miss = latenciesOf(misses);
  return { hit, miss, missMinusHitP50Ms: miss.p50Ms - hit.p50Ms, missMinusHitP90Ms: miss.p90Ms - hit.p90Ms, p50Ratio: miss.p50Ms / hit.p50Ms, p90Ratio: miss.p90Ms / hit.p90Ms };
}
