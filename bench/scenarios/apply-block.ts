/** `apply-block`: the longest event-loop block of the gateway during `ingest-snapshot` (POST to applied); no floor. */
import { ingestRuns } from '../lib/ingest-runs.ts';
import { median, type Scenario } from '../lib/scenario.ts';

export const scenario: Scenario = {
  name: 'apply-block',
  target: { valueAtMost: 100 },
  async measure(context) {
    const { runs, records } = await ingestRuns(context);
    return {
      value: { value: median(runs.map((r) => r.longestBlock * 1000)), unit: 'ms' },
      runs: runs.length,
      detail: { records, longestBlockMs: runs.map((r) => r.longestBlock * 1000), longestBlockTo202Ms: runs.map((r) => r.longestBlockTo202 * 1000) },
    };
  },
};
