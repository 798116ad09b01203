/**
 * What a benchmark scenario is: one module in bench/scenarios/ exporting `scenario`.
 * The harness (bench/run.ts) finds every module there, so adding a scenario is adding a
 * module. A scenario measures the gateway and, in the same run, its floor: the bare
 * library or server doing the same work on the same input.
 */

/** One measured quantity with its unit. */
export interface Quantity {
  value: number;
  unit: string;
}

/** The figure a scenario reports: its value, its floor and ratio where it has one, its target. */
export interface Figure {
  value: Quantity;
  /** Absent where there is no floor (the target is then on the value itself). */
  floor?: Quantity;
  /** How many measured runs the medians come from (after the warm-up). */
  runs: number;
  /** Anything else worth keeping in the JSON (sizes, every run's figures). */
  detail?: Record<string, unknown>;
}

/** "ratio ≤ max" or "ratio ≥ min" (value ÷ floor: a rate wants the latter), or "value ≤ max" in the value's unit for scenarios without a floor. */
export type Target = { ratioAtMost: number } | { ratioAtLeast: number } | { valueAtMost: number };

export interface BenchContext {
  /** Records in each large document: 100,000, or 2,000 with --quick. */
  records: number;
  quick: boolean;
  /** The external PostgreSQL (--postgres URL) scenarios with a store use; else each gets an embedded one. */
  postgres: string | undefined;
  redisUrl: string;
  /** Measurements several scenarios report (one ingest gives four figures): made once, on first use. */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** Runs this scenario module's `child` in a process of its own and returns what it printed. */
  inChild<T>(module: string, args: unknown): Promise<T>;
}

export interface Scenario {
  name: string;
  target: Target;
  measure(context: BenchContext): Promise<Figure>;
  /** Work run in a child process (bench/child.ts), where memory or a fresh heap matter. */
  child?(args: unknown): Promise<unknown>;
}

/** The median of measured runs (the lower middle for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('no runs to take a median of');
  return [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
}

/** Seconds `fn` takes, after a full garbage collection when the process allows one. */
export function timed(fn: () => unknown): { seconds: number; result: unknown } {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.hrtime.bigint();
  const result = fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}
