/**
 * `npm run bench`: every scenario in bench/scenarios/, each beside its floor measured in
 * the same run (this machine is shared and noisy; ratios hold, absolute figures drift).
 * Prints one line per scenario and writes the same figures as JSON.
 *
 *   --quick          every scenario at 2,000 records and fewer runs: seconds, for CI
 *   --postgres URL   scenarios with a store use this PostgreSQL (a scratch database each
 *                    run, so the role needs CREATEDB); else each run an embedded one
 *   --only a,b       only these scenarios
 *   --json FILE      where the JSON goes (default bench/results.json, or
 *                    bench/results-quick.json with --quick)
 *
 * Nothing here asserts a time: a missed target is a figure, not a failure. A scenario
 * that cannot run (a crash, a wrong count) fails the run.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchContext, Figure, Scenario, Target } from './lib/scenario.ts';

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, postgres: { type: 'string' }, only: { type: 'string' }, json: { type: 'string' } },
  strict: true,
});
const quick = flags.quick ?? false;
const jsonFile = flags.json ?? fileURLToPath(new URL(quick ? './results-quick.json' : './results.json', import.meta.url));

const scenarioDir = new URL('./scenarios/', import.meta.url);
const scenarios: Scenario[] = [];
for (const file of readdirSync(scenarioDir).filter((f) => f.endsWith('.ts')).sort()) {
  scenarios.push(((await import(new URL(file, scenarioDir).href)) as { scenario: Scenario }).scenario);
}
const only = flags.only?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`bench: no scenario ${unknown.join(', ')}; there are ${scenarios.map((s) => s.name).join(', ')}\n`);
  process.exit(64);
}
const selected = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;

const childFile = fileURLToPath(new URL('./child.ts', import.meta.url));
const sharedRuns = new Map<string, Promise<unknown>>();
const context: BenchContext = {
  records: quick ? 2_000 : 100_000,
  quick,
  postgres: flags.postgres,
  redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  shared<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!sharedRuns.has(key)) sharedRuns.set(key, make());
    return sharedRuns.get(key) as Promise<T>;
  },
  inChild<T>(module: string, args: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', childFile, module, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (code !== 0) return reject(new Error(`${module} child exited with ${code ?? signal}`));
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as T);
      });
    });
  },
};

/** Three significant figures, no exponent. */
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());
const targetText = (t: Target, unit: string) => ('ratioAtMost' in t ? `≤ ${t.ratioAtMost.toFixed(t.ratioAtMost < 0.1 ? 2 : 1)}` : 'ratioAtLeast' in t ? `≥ ${t.ratioAtLeast}` : `≤ ${t.valueAtMost} ${unit}`);

const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
const report = {
  startedAt: new Date().toISOString(),
  machine: { cpus: availableParallelism(), cpu, node: process.version, loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))) },
  options: { quick, records: context.records, store: flags.postgres ? 'external PostgreSQL' : 'embedded PostgreSQL' },
  scenarios: [] as unknown[],
};
let failed = 0;
for (const scenario of selected) {
  let figure: Figure;
  try {
    figure = await scenario.measure(context);
  } catch (error) {
    failed++;
    process.stdout.write(`bench ${scenario.name}: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    report.scenarios.push({ name: scenario.name, error: String(error) });
    continue;
  }
  const { value, floor } = figure;
  const ratio = floor ? value.value / floor.value : undefined;
  const target = scenario.target;
  const met = 'ratioAtMost' in target ? ratio !== undefined && ratio <= target.ratioAtMost : 'ratioAtLeast' in target ? ratio !== undefined && ratio >= target.ratioAtLeast : value.value <= target.valueAtMost;
  process.stdout.write(
    `bench ${scenario.name}: ${fmt(value.value)} ${value.unit}; floor ${floor ? `${fmt(floor.value)} ${floor.unit}` : 'none'}; ratio ${ratio === undefined ? 'none' : ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)} (target ${targetText(scenario.target, value.unit)})\n`,
  );
  report.scenarios.push({ name: scenario.name, value: value.value, unit: value.unit, floor: floor?.value ?? null, floorUnit: floor?.unit ?? null, ratio: ratio ?? null, target: scenario.target, met, runs: figure.runs, ...figure.detail });
}
writeFileSync(jsonFile, `${JSON.stringify({ ...report, loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))) }, null, 2)}\n`);
if (failed > 0) process.exitCode = 1;
