/** Process entry point of `mragw`: real stdio, real exit status. */
import { run } from './main.ts';

process.exitCode = await run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
