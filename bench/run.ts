/**
 * `npm run bench`: translation throughput and memory, each figure next to a baseline
 * measured in the same run (this machine is shared and noisy; ratios hold, absolute
 * figures drift). Each measurement is its own process; the median of three is shown.
 * BENCH_RECORDS sets the document size (default 100,000 records, about 50 MB for EU).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const records = Number(process.env['BENCH_RECORDS'] ?? 100_000);
const caseFile = fileURLToPath(new URL('./case.ts', import.meta.url));

interface Measurement {
  seconds: number;
  peakRssMiB: number;
  bytes: number;
}

function measure(name: string): Measurement {
  const runs = [0, 1, 2].map(() => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', caseFile, name, String(records)], { encoding: 'utf8', maxBuffer: 1 << 20 })) as Measurement);
  const median = (pick: (m: Measurement) => number) => runs.map(pick).sort((a, b) => a - b)[1]!;
  return { seconds: median((m) => m.seconds), peakRssMiB: median((m) => m.peakRssMiB), bytes: runs[0]!.bytes };
}

const rows: string[][] = [];
function compare(label: string, name: string, baseline: Measurement, hold: Measurement, measured?: Measurement) {
  const m = measured ?? measure(name);
  rows.push([label, `${m.seconds.toFixed(3)} s`, `${(m.bytes / m.seconds / 1e6).toFixed(1)} MB/s`, `${(m.seconds / baseline.seconds).toFixed(2)}×`, `${(m.peakRssMiB - hold.peakRssMiB).toFixed(0)} MiB`, `${((m.peakRssMiB - hold.peakRssMiB) / (m.bytes / 2 ** 20)).toFixed(1)}×`]);
  return m;
}

const hold = measure('eu-hold-bytes');
const floor = measure('eu-saxes-scan');
process.stdout.write(`records: ${records}; EU document ${(floor.bytes / 1e6).toFixed(1)} MB; node ${process.version}\n\n`);
compare('EU: saxes scan only (floor)', 'eu-saxes-scan', floor, hold, floor);
compare('EU: fast-xml-parser whole tree', 'eu-fast-xml-parser-tree', floor, hold);
compare('EU → canonical (gateway)', 'eu-to-canonical', floor, hold);
compare('EU → canonical → EU', 'eu-round-trip', floor, hold);
const jsonFloor = measure('gb-json-parse');
compare('GB: JSON.parse only (floor)', 'gb-json-parse', jsonFloor, hold, jsonFloor);
compare('GB → canonical (gateway)', 'gb-to-canonical', jsonFloor, hold);
const csvFloor = measure('jp-csv-parse');
compare('JP: csv-parse only (floor)', 'jp-csv-parse', csvFloor, hold, csvFloor);
compare('JP → canonical (gateway)', 'jp-to-canonical', csvFloor, hold);

const header = ['case', 'time', 'throughput', 'vs floor', 'memory above holding the bytes', '× document size'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
