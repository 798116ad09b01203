/**
 * Runs one scenario's `child` in a process of its own, so that its memory and heap are its
 * own, and prints what it returns as one line of JSON. Started by the harness:
 * node --import tsx --expose-gc bench/child.ts <scenario module URL> <JSON arguments>
 */
import type { Scenario } from './lib/scenario.ts';

const [moduleUrl, args] = process.argv.slice(2);
if (!moduleUrl || args === undefined) throw new Error('usage: bench/child.ts <scenario module URL> <JSON arguments>');
const { scenario } = (await import(moduleUrl)) as { scenario: Scenario };
if (!scenario.child) throw new Error(`${scenario.name} has no child work`);
const result = await scenario.child(JSON.parse(args));
process.stdout.write(`${JSON.stringify(result)}\n`);
