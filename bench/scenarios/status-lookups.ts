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
 * their latencies are reported apart, under the load and one request at a time, both
 * the first time an identifier is asked (nothing kept yet) and again (kept).
 */
import { euSnapshot } from '../documents.ts';
import { ingest, partnerKey, startGateway } from '../lib/gateway.ts';
import { atRate, bareServer, latenciesOf, load, measuredRound } from '../lib/load.ts';
import { median, type Scenario } from '../lib/scenario.ts';

const concurrency = 64;

export const scenario: Scenario = {
  name: 'status-lookups',
  target: { ratioAtLeast: 0.5 },
  async measure(context) {
    const operators = context.quick ? 200 : 1_000;
    const rounds = context.quick ? 2 : 5;
    const roundSeconds = context.quick ? 1 : 2;
    const probes = context.quick ? 40 : 200;
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
      // One at a time, before any load: the first `probes` hits and misses asked for the first time, then again.
      const cold = await oneAtATime(2 * probes, ask(gateway.url), kindOf);
      const warm = await oneAtATime(2 * probes, ask(gateway.url), kindOf);
      // Warm-up: every hit and miss once (however long that takes), so that both servers answer from a warm state.
      await everyOnce(2 * operators, ask(gateway.url));
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
      const unexpected = measured.reduce((n, r) => n + r.unexpected, 0) + cold.unexpected + warm.unexpected + open.unexpected;
      if (unexpected > 0) throw new Error(`${unexpected} status answers were not the expected 200 or 404`);
      const pooled = (results: typeof measured) => latenciesOf(results.flatMap((r) => r.latencies));
      const kind = (name: string) => latenciesOf(measured.flatMap((r) => r.byKind[name] ?? []));
      const underLoad = { hit: kind('hit'), miss: kind('miss') };
      const hitMiss = {
        underLoad: { ...underLoad, missMinusHitP50Ms: underLoad.miss.p50Ms - underLoad.hit.p50Ms },
        coldOneAtATime: { ...cold.byKind, missMinusHitP50Ms: cold.byKind.miss.p50Ms - cold.byKind.hit.p50Ms },
        warmOneAtATime: { ...warm.byKind, missMinusHitP50Ms: warm.byKind.miss.p50Ms - warm.byKind.hit.p50Ms },
      };
      const p99Ms = pooled(measured).p99Ms;
      const ms = (x: number) => x.toFixed(2);
      const cpu = median(measured.map((r) => r.cpuMsPerRequest));
      const floorCpu = median(floors.map((r) => r.cpuMsPerRequest));
      process.stdout.write(
        `  status-lookups: p99 ${ms(p99Ms)} ms with 64 clients (floor ${ms(pooled(floors).p99Ms)}), ${ms(open.p99Ms)} ms at ${openRate}/s (target ≤ 10; floor ${ms(openFloor.p99Ms)}); CPU per request ${cpu.toFixed(3)} ms (floor ${floorCpu.toFixed(3)}; ratio ${(floorCpu / cpu).toFixed(2)}); p50 miss − hit: under load ${ms(hitMiss.underLoad.missMinusHitP50Ms)} ms, ` +
          `one at a time first asked ${ms(hitMiss.coldOneAtATime.missMinusHitP50Ms)} ms (hit ${ms(cold.byKind.hit.p50Ms)}), asked again ${ms(hitMiss.warmOneAtATime.missMinusHitP50Ms)} ms (hit ${ms(warm.byKind.hit.p50Ms)})\n`,
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

/** Requests 0 … count−1 one after another; latencies by kind. */
async function oneAtATime(count: number, request: (i: number) => Promise<boolean>, kindOf: (i: number) => string) {
  const byKind: Record<string, number[]> = {};
  let unexpected = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    if (!(await request(i))) unexpected++;
    (byKind[kindOf(i)] ??= []).push(performance.now() - t);
  }
  return { unexpected, byKind: { hit: latenciesOf(byKind['hit'] ?? []), miss: latenciesOf(byKind['miss'] ?? []) } };
}
