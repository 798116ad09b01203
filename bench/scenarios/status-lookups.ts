/**
 * `status-lookups`: anonymous `GET /v1/status/…` per second from 64 clients, hits and
 * misses mixed, against a gateway holding an applied EU SNAPSHOT; the floor is a bare
 * express handler answering the same requests. Target: at least half the floor's rate
 * (the p99 latency, target ≤ 10 ms, is in the JSON).
 */
import { euSnapshot } from '../documents.ts';
import { ingest, partnerKey, startGateway } from '../lib/gateway.ts';
import { bareServer, load } from '../lib/load.ts';
import type { Scenario } from '../lib/scenario.ts';

const concurrency = 64;

export const scenario: Scenario = {
  name: 'status-lookups',
  target: { ratioAtLeast: 0.5 },
  async measure(context) {
    const operators = context.quick ? 200 : 1_000;
    const seconds = context.quick ? 2 : 10;
    const partner = partnerKey();
    // The per-address limit would otherwise answer most of the load with 429.
    const gateway = await startGateway({ partner, redisUrl: context.redisUrl, databaseUrl: context.postgres, env: { STATUS_REQUESTS_PER_MINUTE: '100000000' } });
    const bare = await bareServer();
    try {
      await ingest(gateway, partner, Buffer.from(euSnapshot(operators)));
      // Even i: an operator the gateway holds (200); odd i: a well-formed number it does not (404).
      const path = (i: number) => `/v1/status/eu-aeo/DEAEOF${String(i % 2 === 0 ? (i / 2) % operators : 9_000_000_000 + i).padStart(10, '0')}`;
      const ask = (base: string, hitsAre: number) => async (i: number) => {
        const answer = await fetch(`${base}${path(i)}`);
        await answer.arrayBuffer();
        return answer.status === (i % 2 === 0 ? hitsAre : base === bare.url ? 200 : 404);
      };
      // Warm-up: every hit and miss once, so that both servers answer from a warm state.
      await load(concurrency, 1, ask(gateway.url, 200));
      await load(concurrency, 1, ask(bare.url, 200));
      const measured = await load(concurrency, seconds, ask(gateway.url, 200));
      const floor = await load(concurrency, seconds, ask(bare.url, 200));
      if (measured.unexpected > 0) throw new Error(`${measured.unexpected} status answers were not the expected 200 or 404`);
      return {
        value: { value: measured.perSecond, unit: 'requests/s' },
        floor: { value: floor.perSecond, unit: 'requests/s' },
        runs: 1,
        detail: { concurrency, seconds, operators, p99Ms: measured.p99Ms, floorP99Ms: floor.p99Ms, requests: measured.requests, floorRequests: floor.requests, p99TargetMs: 10 },
      };
    } finally {
      bare.stop();
      await gateway.stop();
      gateway.dispose();
    }
  },
};
