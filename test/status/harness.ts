/**
 * The status endpoint over real HTTP for tests: an express app with the status router
 * under a base path (as app.ts mounts it) and the gateway JWKS, a real GatewayKeys in a
 * temp DATA_DIR, a real Redis (own prefix, removed on close), two partners that sign
 * per §2, the development staff issuer, and an in-memory StatusLookup.
 */
import { secondsOf } from '../../src/clock.ts';
import { fixedClock } from '../support/clock.ts';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { GatewayKeys } from '../../src/keys/gateway-keys.ts';
import { callerIdentifier } from '../../src/receive/callers.ts';
import { answerErrors, sendProblem } from '../../src/receive/problem.ts';
import { RateLimits } from '../../src/receive/rate-limits.ts';
import { PartnerEntry, type Partner, type PartnerDirectory, type PublicJwk } from '../../src/registry/partner.ts';
import type { SigningKey } from '../../src/sign/request-signature.ts';
import { StaffAuth } from '../../src/staff/staff-auth.ts';
import type { FoundRecords, StatusLookup, StatusRecord } from '../../src/status/lookup.ts';
import { statusRouter, type StatusRouteDeps } from '../../src/receive/status-routes.ts';
import { ctpatMember, record } from './records.ts';

export const GATEWAY_ID = 'US-CBP-TEST';
export const BASE = '/mra';
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A fresh ES256 request-signing key and its registered public JWK. */
export function partnerKey(kid: string): { key: SigningKey; jwk: PublicJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { key: { privateJwk: { ...privateKey.export({ format: 'jwk' }), kid }, alg: 'ES256' }, jwk: { kty: kty as 'EC', crv, x, y, kid, alg: 'ES256', use: 'sig' } };
}

export const euKey = partnerKey('eu-status-test');
export const gbKey = partnerKey('gb-status-test');

const registry = new Map<string, Partner>(
  [
    { id: 'EU', programme: 'EU-AEO', format: 'eu-aeo', jwk: euKey.jwk },
    { id: 'GB', programme: 'UK-AEO', format: 'gb-aeo', jwk: gbKey.jwk },
  ].map((p) => [p.id, PartnerEntry.parse({ id: p.id, name: p.id, programme: p.programme, format: p.format, keys: { algorithms: ['ES256'], jwks: { keys: [p.jwk] } } })]),
);

export const partners: PartnerDirectory = {
  partner: (id) => registry.get(id),
  key: async (id, kid) => registry.get(id)?.keys.jwks?.keys.find((k) => k.kid === kid),
};

export const euOperator = record();
export const gbOperator = record({ partner: 'GB', key: 'GBAEOS1234/19', eori: 'GB123456789000', mids: ['GBTHAVAL45REA'], benefits: [['GBTHAVAL45REA', 'front-of-line']] });
/** Held without consent: a 404 to all but staff. */
export const hiddenOperator = record({ key: 'DEAEOF0000000002', eori: 'DE999', consent: false });

/** A miss's stand-in, as the store's lookup gives one once something was found: the EU operator, or the C-TPAT member. */
export const lookup: StatusLookup = {
  async byIdentifier(scheme, id) {
    const all: StatusRecord[] = [euOperator, gbOperator, hiddenOperator];
    return found(all.filter(({ partner, held }) => (scheme === partner.format && held.key === id) || (scheme === 'eori' && held.record.identifier.value === id)));
  },
  async byMid(mid) {
    return found([euOperator, gbOperator].filter((r) => r.held.currentMids.includes(mid)));
  },
  async ctpatMember(account) {
    if (account === 'CT-0012345') return { member: ctpatMember(), standIn: undefined };
    return account === 'CT-APPLICANT' ? { member: ctpatMember({ account, status: 'APPLICANT' }), standIn: undefined } : { member: undefined, standIn: ctpatMember() };
  },
};

function found(records: StatusRecord[]): FoundRecords {
  return records.length > 0 ? { records, standIn: [] } : { records, standIn: [euOperator] };
}

export interface StatusHarness {
  dataDir: string;
  keys: GatewayKeys;
  staff: StaffAuth;
  /** Assertions signed so far, stand-ins of misses included. */
  signed(): number;
  /** The payloads signed so far, in order. */
  payloads(): Record<string, unknown>[];
  /** Starts an app (base URL, with BASE) with these changes to the route's deps. */
  start(overrides?: Partial<StatusRouteDeps>, options?: { staff?: StaffAuth }): Promise<string>;
  /** A RateLimits on this harness's Redis prefix. */
  limits(): RateLimits;
  close(): Promise<void>;
}

export async function statusHarness(): Promise<StatusHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mragw-status-'));
  const keys = await GatewayKeys.load({ dataDir, minAgeDays: 0 });
  const redis = new Redis(REDIS_URL);
  const prefix = `{mragw-status-test-${randomBytes(5).toString('hex')}}`;
  const staff = await StaffAuth.create({ devIssuer: { dataDir } });
  const servers: Server[] = [];
  const payloads: Record<string, unknown>[] = [];
  const clock = fixedClock();
  const limits = () => new RateLimits(redis, pino({ level: 'silent' }), `${prefix}-${randomBytes(3).toString('hex')}`, clock);
  const nowSeconds = () => secondsOf(clock);

  return {
    dataDir,
    keys,
    staff,
    signed: () => payloads.length,
    payloads: () => [...payloads],
    limits,
    async start(overrides = {}, options = {}) {
      const rateLimits = limits();
      const deps: StatusRouteDeps = {
        gatewayId: GATEWAY_ID,
        basePath: BASE,
        lookup,
        sign: async (typ, payload) => {
          payloads.push(payload);
          return keys.sign(typ, payload);
        },
        identify: callerIdentifier({ gatewayId: GATEWAY_ID, basePath: BASE, partners, staff: options.staff ?? staff, limits: rateLimits, iatSkewSeconds: 300, preauthFailuresPerMinute: 600, nowSeconds }),
        limits: rateLimits,
        statusRequestsPerMinute: 1200,
        nowSeconds,
        ...overrides,
      };
      const app = express();
      const api = express.Router();
      api.get('/.well-known/jwks.json', (_req, res) => void res.json(keys.jwks()));
      api.use(statusRouter(deps));
      app.use(BASE, api);
      app.use((_req: express.Request, res: express.Response) => sendProblem(res, 'not-found', 'no such resource'));
      app.use(answerErrors());
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE}`;
    },
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
      const left = await redis.keys(`${prefix}*`);
      if (left.length > 0) await redis.del(...left);
      redis.disconnect();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
