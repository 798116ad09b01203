/**
 * The outbound-snapshot-* scenarios: C-TPAT members to a signed SNAPSHOT in one partner's
 * format, as the prepare-outbound job makes it (plan: eligibility, translation, digests,
 * writing; then the body's bytes and the detached JWS signature), beside JSON.stringify
 * of the same members. One scenario per format, so that the harness prints each ratio on
 * its own line; each runs in a child process of its own, warmed up once, then gateway
 * and floor alternately, so that drift on a shared machine falls on both alike.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Operator } from '../../src/canonical/operator.ts';
import { planDocument } from '../../src/deliver/plan-document.ts';
import { signRequest, type SigningKey } from '../../src/sign/request-signature.ts';
import type { Format } from '../../src/translate/format.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { median, type Scenario } from './scenario.ts';

/** The six partner formats with an outbound mapping, by the suffix of their scenario's name. */
export const outboundFormats = { ca: 'ca-pip', eu: 'eu-aeo', gb: 'gb-aeo', jp: 'jp-aeo', kr: 'kr-aeo', mx: 'mx-oea' } as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Three kinds of eligible member (an exporter without MIDs, a highway carrier with its SCAC, a foreign manufacturer with a MID), taken in turn. */
function memberLine(i: number): string {
  const account = `CT-${pad(i, 7)}`;
  switch (i % 3) {
    case 0:
      return JSON.stringify({ accountNumber: account, businessType: 'EXPORTER', legalName: `Great Lakes Outdoor Supply ${i} LLC`, dba: 'GLOS', address: { street: `${i % 9000} Commerce Dr`, city: 'Toledo', state: 'OH', postalCode: '43604', country: 'US' }, status: 'CERTIFIED_VALIDATED', statusDate: '2022-10-18', certifiedOn: '2012-04-02', consentToShare: true, identifiers: { mids: [], scac: null } });
    case 1:
      return JSON.stringify({ accountNumber: account, businessType: 'HIGHWAY_CARRIER', legalName: `Blue Ridge Freight Lines ${i} Inc.`, address: { street: '77 Depot St', city: 'Asheville', state: 'NC', postalCode: '28801', country: 'US' }, status: 'TIER3', statusDate: '2021-06-01', certifiedOn: '2008-02-11', consentToShare: true, identifiers: { mids: [], scac: 'BRFL' } });
    default:
      return JSON.stringify({ accountNumber: account, businessType: 'FOREIGN_MANUFACTURER', legalName: `Maquiladora Fronteriza ${i} S.A.`, address: { street: 'Calle Industrial 5', city: 'Ciudad Juarez', state: 'CH', postalCode: '32000', country: 'MX' }, status: 'SUSPENDED', statusDate: '2026-08-15', certifiedOn: '2016-09-09', consentToShare: true, identifiers: { mids: ['MXMAQFRO5CIU'], scac: null } });
  }
}

/** `n` eligible C-TPAT members by account, read from an export as the import reads it. */
export function ctpatMembers(n: number): Map<string, Operator> {
  const format = loadFormats().get('ctpat')!;
  const lines = Array.from({ length: n }, (_, i) => `${memberLine(i)}\n`).join('');
  const read = readDocument(format, Buffer.from(lines));
  if (read.batch.records.length !== n) throw new Error(`the C-TPAT export of ${n} members read as ${read.batch.records.length}`);
  return new Map(read.batch.records.map((m) => [m.key, m]));
}

/** A fresh ES256 key, as the gateway's signing key is kept (deliver/gateway-signing-key.ts). */
function benchSigningKey(): SigningKey {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JsonWebKey;
  return { privateJwk: { ...jwk, kid: 'bench-1' }, alg: 'ES256' };
}

interface ChildArgs {
  formatId: string;
  members: number;
  runs: number;
}

interface ChildResult {
  bytes: number;
  floorBytes: number;
  gateway: number[];
  floor: number[];
  /** The same runs in CPU seconds of this process: on a shared machine, less at the mercy of the scheduler than wall time. */
  gatewayCpu: number[];
  floorCpu: number[];
  /** The longest the event loop waited while the gateway wrote, in ms (planning and writing pause between stretches; signing does not). */
  longestBlockMs: number;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const cpuSeconds = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Members to the signed SNAPSHOT body, as prepare-outbound does it; returns the body's length. */
async function signedSnapshot(format: Format, members: ReadonlyMap<string, Operator>, key: SigningKey): Promise<number> {
  const plan = await planDocument(format, members, new Map(), { gatewayId: 'US-CBP-BENCH', partnerId: format.partner!, kind: 'SNAPSHOT', sequence: 1, batchId: 'US-CBP-BENCH-1', asOf: '2026-11-30T02:00:00Z', today: '2026-11-30', businessTypes: undefined });
  const document = plan?.document;
  if (!document || plan.unwritable.length > 0 || document.carried.length !== members.size) throw new Error(`${format.id}: carried ${document?.carried.length ?? 0} of ${members.size} members, ${plan?.unwritable.length ?? 0} unwritable`);
  const { body } = document;
  signRequest({ key, iss: 'US-CBP-BENCH', aud: format.partner!, method: 'POST', target: '/v1/batches', body, jti: 'bench-jti', iat: 1_796_000_000, contentType: format.mediaType });
  return body.length;
}

/** The scenario for one format: target ≤ 3.0 × JSON.stringify of the same members. */
export function outboundScenario(suffix: keyof typeof outboundFormats, module: string): Scenario {
  const formatId = outboundFormats[suffix];
  return {
    name: `outbound-snapshot-${suffix}`,
    target: { ratioAtMost: 3.0 },
    async measure(context) {
      const runs = context.quick ? 3 : 5;
      const members = context.quick ? 1_000 : 20_000;
      const r = await context.inChild<ChildResult>(module, { formatId, members, runs } satisfies ChildArgs);
      return {
        value: { value: median(r.gateway), unit: 's' },
        floor: { value: median(r.floor), unit: 's' },
        runs,
        detail: { format: formatId, members, bytes: r.bytes, floorBytes: r.floorBytes, floorName: 'JSON.stringify', longestBlockMs: r.longestBlockMs, gatewaySeconds: r.gateway, floorSeconds: r.floor, cpuRatio: median(r.gatewayCpu) / median(r.floorCpu), gatewayCpuSeconds: r.gatewayCpu, floorCpuSeconds: r.floorCpu },
      };
    },
    async child(args) {
      const { formatId: id, members: n, runs } = args as ChildArgs;
      const format = loadFormats().get(id);
      if (!format) throw new Error(`no format ${id}`);
      const members = ctpatMembers(n);
      const records = [...members.values()];
      const key = benchSigningKey();
      // The warm-up, which also checks that every member was carried.
      const bytes = await signedSnapshot(format, members, key);
      const floorBytes = JSON.stringify(records).length;
      const result: ChildResult = { bytes, floorBytes, gateway: [], floor: [], gatewayCpu: [], floorCpu: [], longestBlockMs: 0 };
      const delay = monitorEventLoopDelay({ resolution: 1 });
      for (let i = 0; i < runs; i++) {
        gc();
        delay.reset();
        delay.enable();
        // The monitor measures between two firings of its timer: let it fire once before the work, or a first stretch goes unseen.
        await new Promise((resolve) => setTimeout(resolve, 5));
        let cpu = process.cpuUsage();
        let start = process.hrtime.bigint();
        await signedSnapshot(format, members, key);
        result.gateway.push(seconds(start));
        result.gatewayCpu.push(cpuSeconds(cpu));
        // The delay monitor's timer must fire once after the last stretch, or that stretch goes unrecorded.
        await new Promise((resolve) => setTimeout(resolve, 5));
        delay.disable();
        result.longestBlockMs = Math.max(result.longestBlockMs, delay.max / 1e6);
        gc();
        cpu = process.cpuUsage();
        start = process.hrtime.bigint();
        JSON.stringify(records);
        result.floor.push(seconds(start));
        result.floorCpu.push(cpuSeconds(cpu));
      }
      return result;
    },
  };
}
