/**
 * The translate-* scenarios: a large document's bytes to validated canonical records
 * (`readDocument` with the loaded format), beside the fastest correct reader of the same
 * bytes. Both run in one child process, warmed up once, then alternately, so that drift
 * on a shared machine falls on both alike.
 */
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { median, timed, type Scenario } from './scenario.ts';

interface TranslateSpec {
  name: string;
  /** The module's own URL (import.meta.url), so that the harness can run `child` in a process of its own. */
  module: string;
  format: string;
  document: (records: number) => string;
  floorName: string;
  /** The floor: reads every byte, builds what the library builds, and returns how many rows it saw. */
  floor: (bytes: Buffer) => number;
  /** Rows the floor sees in a document of `records` records (header and trailer lines count in CSV). */
  floorRows: (records: number) => number;
}

interface ChildArgs {
  records: number;
  runs: number;
}

interface ChildResult {
  bytes: number;
  gateway: number[];
  floor: number[];
}

/** A translate scenario: target ≤ 2.0 × the floor. */
export function translateScenario(spec: TranslateSpec): Scenario {
  return {
    name: spec.name,
    target: { ratioAtMost: 2.0 },
    async measure(context) {
      const runs = context.quick ? 3 : 5;
      const r = await context.inChild<ChildResult>(spec.module, { records: context.records, runs } satisfies ChildArgs);
      return {
        value: { value: median(r.gateway), unit: 's' },
        floor: { value: median(r.floor), unit: 's' },
        runs,
        detail: { records: context.records, bytes: r.bytes, floorName: spec.floorName, gatewaySeconds: r.gateway, floorSeconds: r.floor },
      };
    },
    async child(args) {
      const { records, runs } = args as ChildArgs;
      const format = loadFormats().get(spec.format);
      if (!format) throw new Error(`no format ${spec.format}`);
      const bytes = Buffer.from(spec.document(records));
      const gateway = () => {
        const { result } = timed(() => readDocument(format, bytes));
        return result as ReturnType<typeof readDocument>;
      };
      // The warm-up, which also checks that both read the whole document and the gateway rejected nothing;
      // in a function of its own, so that its 100,000 records are not held through the timed runs.
      const warmUp = () => {
        const read = gateway();
        if (read.batch.records.length !== records || read.rejectedCount !== 0) throw new Error(`${spec.name}: the gateway read ${read.batch.records.length} records and rejected ${read.rejectedCount} of ${records}`);
      };
      warmUp();
      const rows = spec.floor(bytes);
      if (rows !== spec.floorRows(records)) throw new Error(`${spec.name}: ${spec.floorName} saw ${rows} rows, expected ${spec.floorRows(records)}`);
      const result: ChildResult = { bytes: bytes.length, gateway: [], floor: [] };
      for (let i = 0; i < runs; i++) {
        result.gateway.push(timed(() => readDocument(format, bytes)).seconds);
        result.floor.push(timed(() => spec.floor(bytes)).seconds);
      }
      return result;
    },
  };
}
