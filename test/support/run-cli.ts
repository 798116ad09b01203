/** Runs `mragw` in-process with captured output, as a user at a terminal would see it. */
import { Readable } from 'node:stream';
import { run } from '../../src/cli/main.ts';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], options: { stdin?: string | Buffer; env?: Record<string, string> } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await run(argv, {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: options.env ?? {},
  });
  return { status, stdout, stderr };
}
