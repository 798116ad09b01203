/**
 * The embedded default (RUNNING.md): when REDIS_URL is unset and nothing answers at
 * 127.0.0.1:6379, a private `redis-server` (if installed) runs on a unix socket with its
 * data in DATA_DIR/redis, keeping its jobs on disk (append-only file) across restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { redisAnswers } from './redis.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisEndpoint {
  url: string;
  /** Stops the private server, if one was started. */
  stop(): Promise<void>;
}

/** The Redis to use: REDIS_URL, the local default, or a private server started now. */
export async function resolveRedis(settings: { REDIS_URL?: string | undefined; DATA_DIR: string }): Promise<RedisEndpoint> {
  if (settings.REDIS_URL) return { url: settings.REDIS_URL, stop: async () => {} };
  if (await redisAnswers(DEFAULT_REDIS_URL)) return { url: DEFAULT_REDIS_URL, stop: async () => {} };
  const dir = resolve(settings.DATA_DIR, 'redis');
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`REDIS_URL is unset, nothing answers at ${DEFAULT_REDIS_URL}, and redis-server could not be started (${e.message}): install Redis or set REDIS_URL`))));
  const url = `unix://${socket}`;
  await Promise.race([failed, waitFor(() => redisAnswers(url), 5_000)]);
  return { url, stop: () => stopChild(child) };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the private redis-server did not answer in time');
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
