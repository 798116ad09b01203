/**
 * A whole gateway for HTTP-level tests: real HTTP on a free port, a real Redis (each
 * gateway its own key prefix, removed afterwards), and the embedded PostgreSQL server
 * (the default store) or a fresh database on the external PostgreSQL. Partners EU and JP carry the test-vector keys (shared/spec/vectors), KR is
 * suspended. Partners sign their requests as a real client would.
 */
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Clock } from '../../src/clock.ts';
import { loadSettings, type Settings } from '../../src/config.ts';
import { startGateway, type RunningGateway } from '../../src/server/gateway.ts';
import { removeRelocatedCluster } from '../../src/store/embedded-postgres.ts';
import { signRequest, type SigningKey } from '../../src/sign/request-signature.ts';
import { freshPostgres, type TestDatabase } from './databases.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as {
  partner: { keys: { jwks: { keys: object[] } } };
  otherPartner: { keys: { jwks: { keys: object[] } } };
  privateKeys: (JsonWebKey & { kid: string; alg: SigningKey['alg'] })[];
};

export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const GATEWAY_ID = 'US-CBP-TEST';

const vectorKey = (kid: string): SigningKey => {
  const jwk = vectors.privateKeys.find((k) => k.kid === kid)!;
  return { privateJwk: jwk, alg: jwk.alg };
};

/** Signing keys of the test partners. */
export const partnerKeys = {
  EU: vectorKey('eu-vector-es256'),
  EUEd25519: vectorKey('eu-vector-ed25519'),
  EUPs256: vectorKey('eu-vector-ps256'),
  JP: vectorKey('jp-vector-es256'),
  KR: ((): SigningKey => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { privateJwk: { ...privateKey.export({ format: 'jwk' }), kid: 'kr-test-es256' }, alg: 'ES256' };
  })(),
};

const yaml = (o: unknown) => JSON.stringify(o, null, 2); // JSON is YAML

/** JP's registry entry in the test gateway: signing with the vectors' other partner key, an MRA with no benefits. */
export const JP_ENTRY = { id: 'JP', name: 'Japan', programme: 'JP-AEO', format: 'jp-aeo', keys: { algorithms: ['ES256'], jwks: vectors.otherPartner.keys.jwks } };

export function writePartners(dir: string, overrides: Record<string, object> = {}): void {
  mkdirSync(dir, { recursive: true });
  const { d, ...krPublic } = partnerKeys.KR.privateJwk;
  const entries: Record<string, object> = {
    eu: { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', mra: { signed: '2012-05-04', scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations'] }, keys: { algorithms: ['ES256', 'EdDSA', 'PS256'], jwks: vectors.partner.keys.jwks }, limits: { maxBodyBytes: 1_048_576, requestsPerMinute: 600 } },
    jp: JP_ENTRY,
    kr: { id: 'KR', name: 'Korea', programme: 'KR-AEO', format: 'kr-aeo', status: 'suspended', keys: { algorithms: ['ES256'], jwks: { keys: [{ ...krPublic, alg: 'ES256', use: 'sig' }] } } },
    ...overrides,
  };
  for (const [name, entry] of Object.entries(entries)) writeFileSync(join(dir, `${name}.yaml`), yaml(entry));
}

export interface TestGateway {
  url: string;
  gateway: RunningGateway;
  settings: Settings;
  dataDir: string;
  /** Signs and sends a request as `iss` would; `tamper` may change what is sent after signing. */
  request(options: RequestOptions): Promise<Response>;
  redis: Redis;
  /** The Redis key prefix of this gateway (its queues). */
  prefix: string;
  close(): Promise<void>;
}

export interface RequestOptions {
  key?: SigningKey;
  iss?: string;
  method?: 'POST' | 'GET';
  path?: string;
  body?: string | Buffer;
  contentType?: string;
  jti?: string;
  iat?: number;
  aud?: string;
  headers?: Record<string, string>;
  /** The body actually sent, when it differs from the signed one. */
  sentBody?: string | Buffer;
}

export async function startTestGateway(options: { store: 'embedded' | 'PostgreSQL'; env?: Record<string, string>; partners?: Record<string, object>; workers?: boolean; clock?: Clock }): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mragw-gw-'));
  writePartners(join(dataDir, 'partners'), options.partners);
  let database: TestDatabase | undefined;
  if (options.store === 'PostgreSQL') database = await freshPostgres();
  const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
  const settings = loadSettings({
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
    PARTNERS_DIR: join(dataDir, 'partners'),
    GATEWAY_ID,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SIGNING_KEY_MIN_AGE_DAYS: '0',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ...(database?.url && { DATABASE_URL: database.url }),
    ...options.env,
  });
  const gateway = await startGateway(settings, { api: true, workers: options.workers ?? true }, pino({ level: 'silent' }), options.clock ? { clock: options.clock } : {});
  const url = gateway.url!;
  const redis = new Redis(REDIS_URL);
  return {
    url,
    gateway,
    settings,
    dataDir,
    redis,
    prefix,
    async request(o) {
      const method = o.method ?? 'POST';
      const path = o.path ?? '/v1/exchanges';
      const body = o.body === undefined ? Buffer.alloc(0) : Buffer.from(o.body);
      const signature = signRequest({
        key: o.key ?? partnerKeys.EU,
        iss: o.iss ?? 'EU',
        aud: o.aud ?? GATEWAY_ID,
        method,
        target: path,
        body,
        ...(o.jti !== undefined && { jti: o.jti }),
        ...(o.iat !== undefined && { iat: o.iat }),
      });
      const headers: Record<string, string> = { 'JWS-Signature': signature, ...(method === 'POST' && { 'Content-Type': o.contentType ?? 'application/xml' }), ...o.headers };
      return fetch(`${url}${path}`, { method, headers, ...(method === 'POST' && { body: o.sentBody === undefined ? body : Buffer.from(o.sentBody) }) });
    },
    async close() {
      await gateway.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await database?.drop();
      removeRelocatedCluster(dataDir);
    },
  };
}

/** An EU AEO document (XML) with `n` operators, addressed to the test gateway. */
export function euDocument(options: { batchId: string; sequence: number; kind?: 'SNAPSHOT' | 'DELTA'; records?: number; receiver?: string; partner?: string }): string {
  const n = options.records ?? 1;
  const operators = Array.from({ length: n }, (_, i) => `  <Operator>
    <TIN scheme="EORI">DE${String(100000 + i).padStart(15, '0')}</TIN>
    <AuthorisationNumber>DEAEOF${String(i).padStart(10, '0')}</AuthorisationNumber>
    <AuthorisationType>AEOF</AuthorisationType>
    <Name>Operator ${i} GmbH</Name>
    <Status code="VALID" effectiveDate="2020-01-01"/>
    <ConsentToExchange>true</ConsentToExchange>
  </Operator>
`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1" partner="${options.partner ?? 'EU'}" receiver="${options.receiver ?? GATEWAY_ID}" batchId="${options.batchId}" sequence="${options.sequence}" type="${options.kind ?? 'SNAPSHOT'}" asOf="2026-11-27T02:00:00Z" recordCount="${n}">
${operators}</AEOExchangeBatch>
`;
}
