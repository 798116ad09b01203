/**
 * A gateway as an operator scales it out (RUNNING.md): any number of `mragw serve` and
 * `mragw work` processes on one Redis and one PostgreSQL, sharing a signing key and a
 * partner registry, each partner's inbox a real HTTP server in the test (nock does not
 * cross processes). Every partner of the shipped registry (config/partners) takes part,
 * with its development key (config/dev-keys) and a delivery URL pointing at its inbox.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadSigningKey } from '../../src/cli/key-files.ts';
import { gatewayDirectory } from '../../src/deliver/gateway-directory.ts';
import { inboxHandler, type InboxDocument } from '../../src/deliver/inbox.ts';
import { loadRegistry } from '../../src/registry/load-registry.ts';
import { PartnerEntry, type Partner, type PublicJwk } from '../../src/registry/partner.ts';
import type { SigningKey } from '../../src/sign/request-signature.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { freshPostgres, type TestDatabase } from './databases.ts';
import { freePort, headerOf } from './delivery.ts';
import { GATEWAY_ID, REDIS_URL } from './gateway.ts';
import { killHard, runMragw, type MragwProcess } from './processes.ts';

const root = new URL('../../', import.meta.url).pathname;
const formats = loadFormats();

/** What one partner's inbox saw: every request's jti, the documents it took, and any refusal. */
export interface InboxLog {
  requests: string[];
  documents: InboxDocument[];
  refusals: string[];
}

/** One deployment's shared parts: store, queue prefix, key, registry, inboxes. */
export interface Site {
  database: TestDatabase;
  prefix: string;
  dataDir: string;
  /** Environment every `mragw serve`/`work` process of this site gets. */
  env: Record<string, string>;
  partners: Partner[];
  /** The partners' development signing keys. */
  keys: Map<string, SigningKey>;
  inboxes: Map<string, InboxLog>;
  staffToken: string;
  /** Starts the partners' inboxes, which trust the gateway's keys as `jwksUrl` publishes them. */
  openInboxes(jwksUrl: string): Promise<void>;
  close(): Promise<void>;
}

/** A fresh site. `inboxDelayMs` holds each delivery that long before the inbox reads it, so that a worker can die while one is in flight. */
export async function openSite(options: { inboxDelayMs?: number } = {}): Promise<Site> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mragw-scale-'));
  const partnersDir = join(dataDir, 'partners');
  cpSync(join(root, 'config/partners'), partnersDir, { recursive: true });
  const shipped = loadRegistry(partnersDir, new Set(formats.keys()));
  const ports = new Map<string, number>();
  for (const p of shipped.values()) {
    ports.set(p.id, await freePort());
    // Every shipped entry is YAML without a delivery block: appending one gives it an inbox.
    appendFileSync(join(partnersDir, `${p.id.toLowerCase()}.yaml`), `\ndelivery:\n  url: http://127.0.0.1:${ports.get(p.id)}/mra/inbox\n`);
  }
  const partners = [...loadRegistry(partnersDir, new Set(formats.keys())).values()].sort((a, b) => a.id.localeCompare(b.id));
  const keys = new Map<string, SigningKey>();
  for (const p of partners) keys.set(p.id, await loadSigningKey(join(root, 'config/dev-keys', `${p.id.toLowerCase()}.private.jwk.json`)));

  const keyFile = join(dataDir, 'gateway-key.pem');
  writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  // Minted before any process starts, so that no two serve processes race to create the dev issuer's key.
  const staffToken = await mintDevStaffToken(dataDir, { subject: 'officer.scale', roles: ['admin'], ttlSeconds: 3600 });
  const database = await freshPostgres();
  const prefix = `{mragw-scale-${randomBytes(5).toString('hex')}}`;
  const env = {
    DATABASE_URL: database.url,
    SIGNING_KEY_FILE: keyFile,
    SIGNING_KEY_MIN_AGE_DAYS: '0',
    PARTNERS_DIR: partnersDir,
    DATA_DIR: dataDir,
    GATEWAY_ID,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    MRAGW_DEV_STAFF: '1',
    // A killed worker's jobs are taken over after about this long.
    JOB_LOCK_S: '2',
  };

  const inboxes = new Map<string, InboxLog>(partners.map((p) => [p.id, { requests: [], documents: [], refusals: [] }]));
  const servers: ReturnType<typeof createServer>[] = [];
  return {
    database,
    prefix,
    dataDir,
    env,
    partners,
    keys,
    inboxes,
    staffToken,
    async openInboxes(jwksUrl) {
      const jwks = (await (await fetch(jwksUrl)).json()) as { keys: PublicJwk[] };
      for (const p of partners) {
        const log = inboxes.get(p.id)!;
        const jwk = keys.get(p.id)!.privateJwk;
        const handle = inboxHandler({
          partner: PartnerEntry.parse({ ...p, delivery: undefined }),
          format: formats.get(p.format)!,
          receiptKey: { privateKey: createPrivateKey({ key: keyMaterial(jwk), format: 'jwk' }), kid: jwk.kid, alg: keys.get(p.id)!.alg as 'ES256' },
          gatewayId: GATEWAY_ID,
          gateway: gatewayDirectory(GATEWAY_ID, 'ctpat', { jwks }),
          onDocument: (doc) => log.documents.push(doc),
          onRefusal: (status, slug, detail) => log.refusals.push(`${status} ${slug}: ${detail}`),
        });
        const server = createServer((req: IncomingMessage, res: ServerResponse) => {
          const signature = req.headers['jws-signature'];
          if (typeof signature === 'string') log.requests.push(headerOf(signature).jti);
          setTimeout(() => handle(req, res), options.inboxDelayMs ?? 0);
        });
        await new Promise<void>((resolve) => server.listen(ports.get(p.id), '127.0.0.1', resolve));
        servers.push(server);
      }
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      const redis = new Redis(REDIS_URL);
      const stale = await redis.keys(`${prefix}*`);
      if (stale.length > 0) await redis.del(...stale);
      redis.disconnect();
      await database.drop();
    },
  };
}

/** The key members of a JWK only (kid, alg and use are not key material). */
function keyMaterial(jwk: JsonWebKey): JsonWebKey {
  const members = ['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi'] as const;
  return Object.fromEntries(members.filter((m) => jwk[m] !== undefined).map((m) => [m, jwk[m]])) as JsonWebKey;
}

/** The processes of one site: `serves` APIs (their base URLs in `apis`) and `works` worker processes. */
export interface Cluster {
  apis: string[];
  serves: MragwProcess[];
  works: MragwProcess[];
  stop(): Promise<void>;
}

export async function startCluster(site: Site, serves: number, works: number): Promise<Cluster> {
  const serveProcs = Array.from({ length: serves }, () => runMragw(['serve'], site.env));
  const workProcs = Array.from({ length: works }, () => runMragw(['work'], site.env));
  const all = [...serveProcs, ...workProcs];
  try {
    const apis = await Promise.all(serveProcs.map((p) => p.listening));
    return { apis, serves: serveProcs, works: workProcs, stop: () => Promise.all(all.map(killHard)).then(() => undefined) };
  } catch (error) {
    await Promise.all(all.map(killHard));
    throw error;
  }
}
