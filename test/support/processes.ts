/** Running `mragw` as a real process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const cli = new URL('../../src/cli/mragw.ts', import.meta.url).pathname;

export interface MragwProcess {
  child: ChildProcess;
  /** The API's base URL once it listens (rejects if the process exits first). */
  listening: Promise<string>;
  /** The exit code (or signal) when the process ends. */
  exited: Promise<number | NodeJS.Signals>;
  stderr(): string;
}

export function runMragw(args: string[], env: Record<string, string>): MragwProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal!)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`mragw ${args.join(' ')} exited with ${code}: ${stderr}`)));
  });
  listening.catch(() => {}); // only awaited for commands that serve HTTP
  return { child, listening, exited, stderr: () => stderr };
}

/** SIGKILL, as a crash. */
export function killHard(p: MragwProcess): Promise<unknown> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  return p.exited;
}

/** The embedded PostgreSQL server's pid under DATA_DIR `dataDir`, as PostgreSQL records it (the first line of postmaster.pid). */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'pg', 'cluster', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Whether process `pid` is still there (signal 0 only asks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
