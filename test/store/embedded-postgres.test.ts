/**
 * The embedded default store: a private PostgreSQL server in its own process, on a
 * unix socket, owned by one gateway, back after a crash. In-process for what the server
 * is; as real `mragw start` processes for what an operator meets.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { StoreUnavailableError } from '../../src/store/db.ts';
import { openPostgres } from '../../src/store/postgres-db.ts';
import { removeRelocatedCluster, startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { euDocument, GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';
import { alive, killHard, postmasterPid, runMragw, type MragwProcess } from '../support/processes.ts';

const dataDirs: string[] = [];
const started: MragwProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map(killHard));
  for (const dir of dataDirs) removeRelocatedCluster(dir);
});

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mragw-embedded-'));
  dataDirs.push(dir);
  return dir;
}

function gatewayEnv(dataDir: string): Record<string, string> {
  writePartners(join(dataDir, 'partners'));
  return { DATA_DIR: dataDir, PARTNERS_DIR: join(dataDir, 'partners'), GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: `{mragw-test-${randomBytes(5).toString('hex')}}`, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent' };
}

function start(env: Record<string, string>): MragwProcess {
  const gateway = runMragw(['start'], env);
  started.push(gateway);
  return gateway;
}



async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return check();
}

describe('the embedded PostgreSQL server', () => {
  it('listens on a unix socket only, with a password generated once and kept with mode 0600', async () => {
    const dataDir = freshDataDir();
    const server = await startEmbeddedPostgres(dataDir);
    const db = openPostgres(server.connection, 'embedded-postgres', () => server.stop());
    try {
      const { rows } = await db.query<{ listen_addresses: string }>('show listen_addresses');
      expect(rows[0]!.listen_addresses).toBe('');
      expect(String(server.connection.host)).toMatch(/^\//);
      const credentials = join(dataDir, 'pg', 'credentials.json');
      expect(statSync(credentials).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(credentials, 'utf8'))).toEqual({ user: server.connection.user, password: server.connection.password });
      // Without the password the server lets no one in, even over its own socket.
      const intruder = new pg.Client({ ...server.connection, password: 'wrong' });
      await expect(intruder.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await db.close();
    }
    // The second start reuses the cluster and its password.
    const again = await startEmbeddedPostgres(dataDir);
    const db2 = openPostgres(again.connection, 'embedded-postgres', () => again.stop());
    expect((await db2.query<{ n: number }>('select 1 as n')).rows).toEqual([{ n: 1 }]);
    await db2.close();
  });

  it('refuses a second start on the same DATA_DIR while the first runs', async () => {
    const dataDir = freshDataDir();
    const server = await startEmbeddedPostgres(dataDir);
    try {
      await expect(startEmbeddedPostgres(dataDir)).rejects.toThrow(/another gateway .*DATA_DIR/);
    } finally {
      await server.stop();
    }
  });

  it('is started again when it dies, on the same data, and not when it is stopped', async () => {
    const dataDir = freshDataDir();
    const reports: string[] = [];
    const server = await startEmbeddedPostgres(dataDir, () => {}, (level, message) => reports.push(`${level}: ${message}`));
    const db = openPostgres(server.connection, 'embedded-postgres', () => server.stop());
    let closed = false;
    try {
      await db.query('create table kept (n int)');
      await db.query('insert into kept values (42)');
      const pid = postmasterPid(dataDir);
      process.kill(pid, 'SIGKILL');
      // Until it is back, the store is unavailable (the API's 503), never another error. (A
      // backend left by the dead server may still answer for a moment: PostgreSQL's own way.)
      const deadline = Date.now() + 30_000;
      let rows: unknown[] | undefined;
      while (rows === undefined || !reports.some((r) => r.startsWith('info:'))) {
        rows = undefined;
        try {
          rows = (await db.query('select n from kept')).rows;
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
        }
        if (Date.now() > deadline) throw new Error(`the server is not back: ${reports.join('; ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toEqual([{ n: 42 }]);
      const again = postmasterPid(dataDir);
      expect(again).not.toBe(pid);
      expect(reports).toEqual([expect.stringMatching(new RegExp(`^warn: the embedded PostgreSQL server \\(process ${pid}\\) stopped unexpectedly \\(SIGKILL\\)`)), ...reports.slice(1, -1), `info: the embedded PostgreSQL server is running again (process ${again})`]);

      const heard = [...reports];
      closed = true;
      await db.close();
      expect(alive(again)).toBe(false);
      // An orderly stop is not a death: nothing starts it again.
      await new Promise((r) => setTimeout(r, 2 * 500 + 500));
      expect(existsSync(join(dataDir, 'pg', 'cluster', 'data', 'postmaster.pid'))).toBe(false);
      expect(reports).toEqual(heard);
    } finally {
      if (!closed) await db.close();
    }
  }, 60_000);

  it('reports a DATA_DIR/pg left by PGlite instead of starting on it', async () => {
    const dataDir = freshDataDir();
    mkdirSync(join(dataDir, 'pg'));
    writeFileSync(join(dataDir, 'pg', 'PG_VERSION'), '17\n');
    await expect(startEmbeddedPostgres(dataDir)).rejects.toThrow(/PGlite database from an earlier version.*move it aside/);
  });
});

describe('mragw start on the embedded store', () => {
  it('stops its server when it stops, and a second gateway on the same DATA_DIR refuses with a clear message', async () => {
    const dataDir = freshDataDir();
    const env = gatewayEnv(dataDir);
    const first = start(env);
    await first.listening;
    const pid = postmasterPid(dataDir);
    expect(alive(pid)).toBe(true);

    const second = start(env);
    expect(await second.exited).toBe(64);
    expect(second.stderr()).toMatch(/another gateway \(process \d+\) is using .* as its DATA_DIR/);
    expect(second.stderr()).not.toMatch(/\n\s+at /);
    expect(alive(pid)).toBe(true); // the refused one left the first one's server alone

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dataDir, 'pg', 'gateway.pid'))).toBe(false);
  });

  it('after a SIGKILL, comes back on the same DATA_DIR with every acknowledged exchange', async () => {
    const dataDir = freshDataDir();
    const env = gatewayEnv(dataDir);
    const first = start(env);
    const url = await first.listening;
    const body = Buffer.from(euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence: 1 }));
    const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
    const accepted = await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location')!;
    const pid = postmasterPid(dataDir);

    await killHard(first);
    // The server does not outlive its gateway (parent-death signal), and nobody cleans up by hand.
    expect(await until(() => !alive(pid))).toBe(true);
    const second = start(env);
    const url2 = await second.listening;
    const path = location.replace(/^https?:\/\/[^/]+/, '');
    const get = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'GET', target: path, body: Buffer.alloc(0) });
    const found = await fetch(`${url2}${path}`, { headers: { 'JWS-Signature': get } });
    expect(found.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses a DATA_DIR that cannot hold the store, naming it, without a stack trace', async () => {
    const dataDir = freshDataDir();
    const file = join(dataDir, 'not-a-folder');
    writeFileSync(file, '');
    const env = { ...gatewayEnv(dataDir), DATA_DIR: file };
    const gateway = start(env);
    expect(await gateway.exited).toBe(64);
    expect(gateway.stderr()).toContain(`DATA_DIR ${file} cannot hold the embedded store`);
    expect(gateway.stderr()).not.toMatch(/\n\s+at /);
  });
});
