/**
 * `small-exchanges`: signed 1-record DELTAs accepted (202) per second from 64 clients,
 * against a gateway holding an applied EU SNAPSHOT; the floor is a bare express handler
 * reading the same requests and answering 202. Target: at least a quarter of the floor's
 * rate, and a p99 latency of at most 50 ms (in the JSON and on a line of its own), given
 * under the 64 clients and at a set rate of half the gateway's (see status-lookups).
 *
 * Every DELTA has its own jti and batchId, and the next sequence of the one partner
 * (PROTOCOL §3: +1 per batch), taken when it is sent. Sent by 64 clients at once, a few
 * arrive before the one below them: those are accepted as held (`sequence-gap`) and
 * applied when the run reaches them, as a partner sending in parallel would see. Each
 * changes the same operator (a new street number), so each is applied as a change.
 * The gateway and the floor are measured in alternating rounds, so that drift on a
 * shared machine falls on both alike.
 */
import { euSnapshot } from '../documents.ts';
import { ingest, partnerKey, startGateway } from '../lib/gateway.ts';
import { atRate, bareServer, latenciesOf, load, measuredRound } from '../lib/load.ts';
import { median, type Scenario } from '../lib/scenario.ts';
import { signRequest } from '../../src/sign/request-signature.ts';

const concurrency = 64;

export const scenario: Scenario = {
  name: 'small-exchanges',
  target: { ratioAtLeast: 0.25 },
  async measure(context) {
    const operators = context.quick ? 200 : 1_000;
    const rounds = context.quick ? 2 : 5;
    const roundSeconds = context.quick ? 1 : 2;
    const partner = partnerKey();
    const gateway = await startGateway({ partner, redisUrl: context.redisUrl, databaseUrl: context.postgres });
    const bare = await bareServer();
    const run = `${Date.now().toString(36)}`;
    try {
      // The SNAPSHOT the DELTAs follow: sequence 1.
      await ingest(gateway, partner, Buffer.from(euSnapshot(operators, { batchId: `EU-SMALL-${run}-SNAPSHOT`, sequence: 1 })));
      // Each server its own numbering: the gateway must see every sequence, or it would wait for a gap for ever.
      const sequences = new Map([[gateway.url, 1], [bare.url, 1]]);
      const statuses = new Map<number, number>();
      const send = (base: string) => async () => {
        const next = sequences.get(base)! + 1;
        sequences.set(base, next);
        const body = Buffer.from(euSnapshot(1, { batchId: `EU-SMALL-${run}-${next}`, sequence: next, type: 'DELTA', street: next }));
        const signature = signRequest({ key: partner.key, iss: 'EU', aud: 'US-CBP-DEV', method: 'POST', target: '/v1/exchanges', body });
        const answer = await fetch(`${base}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
        await answer.arrayBuffer();
        if (base === gateway.url) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        return answer.status === 202;
      };
      // Warm-up: both servers answer from a warm state.
      await load(concurrency, context.quick ? 0.5 : 1, send(gateway.url));
      await load(concurrency, context.quick ? 0.5 : 1, send(bare.url));
      statuses.clear();
      const measured: Awaited<ReturnType<typeof measuredRound>>[] = [];
      const floors: typeof measured = [];
      for (let round = 0; round < rounds; round++) {
        measured.push(await measuredRound(gateway.pid, () => load(concurrency, roundSeconds, send(gateway.url))));
        floors.push(await measuredRound(bare.pid, () => load(concurrency, roundSeconds, send(bare.url))));
      }
      // The p99 target at a set rate, half the gateway's own: 64 clients in a closed loop wait 64 ÷ rate on average on any server.
      const openRate = Math.max(1, Math.round(median(measured.map((r) => r.perSecond)) / 2));
      const open = await atRate(openRate, roundSeconds * 2, send(gateway.url));
      const openFloor = await atRate(openRate, roundSeconds * 2, send(bare.url));
      const unexpected = measured.reduce((n, r) => n + r.unexpected, 0) + open.unexpected;
      if (unexpected > 0) throw new Error(`${unexpected} DELTAs were not answered 202: ${JSON.stringify(Object.fromEntries(statuses))}`);
      const p99Ms = latenciesOf(measured.flatMap((r) => r.latencies)).p99Ms;
      const floorP99Ms = latenciesOf(floors.flatMap((r) => r.latencies)).p99Ms;
      const cpu = median(measured.map((r) => r.cpuMsPerRequest));
      const floorCpu = median(floors.map((r) => r.cpuMsPerRequest));
      process.stdout.write(`  small-exchanges: p99 ${p99Ms.toFixed(1)} ms with 64 clients (floor ${floorP99Ms.toFixed(1)}), ${open.p99Ms.toFixed(1)} ms at ${openRate}/s (target ≤ 50; floor ${openFloor.p99Ms.toFixed(1)}); CPU per request ${cpu.toFixed(2)} ms, gateway and its PostgreSQL (floor ${floorCpu.toFixed(3)}; ratio ${(floorCpu / cpu).toFixed(2)})\n`);
      return {
        value: { value: median(measured.map((r) => r.perSecond)), unit: '202/s' },
        floor: { value: median(floors.map((r) => r.perSecond)), unit: '202/s' },
        runs: rounds,
        detail: {
          concurrency, rounds, roundSeconds, operators, p99Ms, floorP99Ms, p99TargetMs: 50,
          openLoop: { perSecond: openRate, seconds: roundSeconds * 2, p99Ms: open.p99Ms, p50Ms: latenciesOf(open.latencies).p50Ms, floorP99Ms: openFloor.p99Ms, floorP50Ms: latenciesOf(openFloor.latencies).p50Ms },
          cpuMsPerRequest: median(measured.map((r) => r.cpuMsPerRequest)), floorCpuMsPerRequest: median(floors.map((r) => r.cpuMsPerRequest)),
          cpuRatio: median(floors.map((r) => r.cpuMsPerRequest)) / median(measured.map((r) => r.cpuMsPerRequest)),
          rates: measured.map((r) => r.perSecond), floorRates: floors.map((r) => r.perSecond), roundRatios: measured.map((r, i) => r.perSecond / floors[i]!.perSecond),
          accepted: measured.reduce((n, r) => n + r.requests, 0), floorRequests: floors.reduce((n, r) => n + r.requests, 0),
        },
      };
    } finally {
      bare.stop();
      await gateway.stop();
      gateway.dispose();
    }
  },
};
