/** `receipt-latency`: an EU SNAPSHOT over HTTP, first byte → 202, beside saxes on the same bytes. */
import { ingestRuns } from '../lib/ingest-runs.ts';
import { median, type Scenario } from '../lib/scenario.ts';

export const scenario: Scenario = {
  name: 'receipt-latency',
  target: { ratioAtMost: 2.5 },
  async measure(context) {
    const { runs, records, documentBytes } = await ingestRuns(context);
    return {
      value: { value: median(runs.map((r) => r.to202)), unit: 's' },
      floor: { value: median(runs.map((r) => r.saxes)), unit: 's' },
      runs: runs.length,
      detail: { records, documentBytes, floorName: 'saxes scan', to202: runs.map((r) => r.to202), saxes: runs.map((r) => r.saxes), growthTo202MiB: runs.map((r) => r.growthTo202MiB), longestBlockTo202Ms: runs.map((r) => r.longestBlockTo202 * 1000) },
    };
  },
};
