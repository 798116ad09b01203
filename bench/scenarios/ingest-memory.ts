/** `ingest-memory`: the gateway's peak resident-memory growth during `ingest-snapshot`, beside the document's size. */
import { ingestRuns } from '../lib/ingest-runs.ts';
import { median, type Scenario } from '../lib/scenario.ts';

export const scenario: Scenario = {
  name: 'ingest-memory',
  target: { ratioAtMost: 3.0 },
  async measure(context) {
    const { runs, records, documentBytes } = await ingestRuns(context);
    return {
      value: { value: median(runs.map((r) => r.growthMiB)), unit: 'MiB' },
      floor: { value: documentBytes / 2 ** 20, unit: 'MiB' },
      runs: runs.length,
      detail: { records, documentBytes, floorName: 'the document', growthMiB: runs.map((r) => r.growthMiB), growthTo202MiB: runs.map((r) => r.growthTo202MiB) },
    };
  },
};
