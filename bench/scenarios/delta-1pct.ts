/** `delta-1pct`: a DELTA changing 1% of the SNAPSHOT's records, first byte → applied, beside the whole `ingest-snapshot`. */
import { ingestRuns } from '../lib/ingest-runs.ts';
import { median, type Scenario } from '../lib/scenario.ts';

export const scenario: Scenario = {
  name: 'delta-1pct',
  target: { ratioAtMost: 0.05 },
  async measure(context) {
    const { runs, records } = await ingestRuns(context);
    return {
      value: { value: median(runs.map((r) => r.delta1pct)), unit: 's' },
      floor: { value: median(runs.map((r) => r.toApplied)), unit: 's' },
      runs: runs.length,
      detail: { records, changed: Math.max(1, Math.round(records / 100)), floorName: 'the whole ingest-snapshot', delta1pct: runs.map((r) => r.delta1pct), toApplied: runs.map((r) => r.toApplied) },
    };
  },
};
