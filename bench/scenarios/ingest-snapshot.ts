/**
 * `ingest-snapshot`: an EU SNAPSHOT over HTTP, first byte → every record applied, beside
 * saxes on the same bytes plus one bulk insert of the same records on the same store.
 */
import { ingestRuns } from '../lib/ingest-runs.ts';
import { median, type Scenario } from '../lib/scenario.ts';

export const scenario: Scenario = {
  name: 'ingest-snapshot',
  target: { ratioAtMost: 3.0 },
  async measure(context) {
    const { runs, records, documentBytes } = await ingestRuns(context);
    return {
      value: { value: median(runs.map((r) => r.toApplied)), unit: 's' },
      floor: { value: median(runs.map((r) => r.saxes + r.bulkInsert)), unit: 's' },
      runs: runs.length,
      detail: { records, documentBytes, floorName: 'saxes + one insert … select from unnest', toApplied: runs.map((r) => r.toApplied), saxes: runs.map((r) => r.saxes), bulkInsert: runs.map((r) => r.bulkInsert), statusPollsReset: runs.map((r) => r.resets) },
    };
  },
};
