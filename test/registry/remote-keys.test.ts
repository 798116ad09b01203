import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PublicJwk } from '../../src/registry/partner.ts';
import { RemoteKeySet } from '../../src/registry/remote-keys.ts';

const origin = 'https://keys.partner.example';
const url = `${origin}/jwks.json`;

function ecJwk(kid: string): PublicJwk {
  const { kty, crv, x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return { kty: kty as 'EC', crv: crv!, x: x!, y: y!, kid, alg: 'ES256', use: 'sig' };
}

/** A JWKS endpoint giving `answers` in turn, one per request (the last repeats); counts the requests. */
function endpoint(...answers: (readonly [number, unknown])[]): { requests: () => number } {
  let requests = 0;
  nock(origin)
    .get('/jwks.json')
    .times(100)
    .reply(() => {
      const answer = answers[Math.min(requests, answers.length - 1)]!;
      requests += 1;
      return [answer[0], answer[1] as nock.Body];
    });
  return { requests: () => requests };
}

/** A clock tests move by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('RemoteKeySet', () => {
  const k1 = ecJwk('k1');
  const k2 = ecJwk('k2');

  it('fetches the set once and serves keys from the cache', async () => {
    const server = endpoint([200, { keys: [k1] }]);
    const set = new RemoteKeySet(url);
    expect(await set.key('k1')).toEqual(k1);
    expect(await set.key('k1')).toEqual(k1);
    expect(server.requests()).toBe(1);
  });

  it('refetches on an unknown kid at most once per cooldown', async () => {
    const server = endpoint([200, { keys: [k1] }], [200, { keys: [k1, k2] }]);
    const time = clock();
    const set = new RemoteKeySet(url, { cooldownMs: 30_000, now: time.now });
    expect(await set.key('k1')).toEqual(k1);
    expect(await set.key('k2')).toBeUndefined(); // within the cooldown of the first fetch
    expect(server.requests()).toBe(1);
    time.advance(30_000);
    expect(await set.key('k2')).toEqual(k2);
    expect(server.requests()).toBe(2);
    time.advance(1_000);
    expect(await set.key('k3')).toBeUndefined();
    expect(await set.key('k4')).toBeUndefined();
    expect(server.requests()).toBe(2);
  });

  it('joins a fetch already in flight', async () => {
    const server = endpoint([200, { keys: [k1, k2] }]);
    const set = new RemoteKeySet(url);
    expect(await Promise.all([set.key('k1'), set.key('k2'), set.key('k1')])).toEqual([k1, k2, k1]);
    expect(server.requests()).toBe(1);
  });

  it('keeps serving the last good set when a fetch fails, and reports the failure', async () => {
    const server = endpoint([200, { keys: [k1] }], [503, 'down']);
    const time = clock();
    const errors: string[] = [];
    const set = new RemoteKeySet(url, { cooldownMs: 1_000, maxAgeMs: 60_000, now: time.now, onError: (e) => errors.push(e.message) });
    expect(await set.key('k1')).toEqual(k1);
    time.advance(60_000); // the set is stale: it is refetched, and the refetch fails
    expect(await set.key('k1')).toEqual(k1);
    time.advance(1_000);
    expect(await set.key('k2')).toBeUndefined();
    expect(server.requests()).toBe(3);
    expect(errors).toEqual([`${url}: HTTP 503`, `${url}: HTTP 503`]);
  });

  it('answers "not found", never an exception, when the endpoint is unreachable or answers nonsense', async () => {
    for (const answer of [[200, 'not json'], [200, { nokeys: [] }], [404, '']] as const) {
      endpoint(answer);
      const errors: Error[] = [];
      expect(await new RemoteKeySet(url, { onError: (e) => errors.push(e) }).key('k1')).toBeUndefined();
      expect(errors).toHaveLength(1);
      nock.cleanAll();
    }
    nock(origin).get('/jwks.json').replyWithError('connection reset');
    expect(await new RemoteKeySet(url).key('k1')).toBeUndefined();
  });

  it('skips private keys, ambiguous kids and unusable keys but keeps the rest', async () => {
    const { d } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const twin = ecJwk('twin');
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    endpoint([
      200,
      {
        keys: [
          { ...k1, x5t: 'ignored', key_ops: ['verify'] },
          { ...ecJwk('private'), d },
          twin,
          { ...ecJwk('twin') },
          { ...weakRsa, kid: 'weak' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
          { ...ecJwk('enc'), use: 'enc' },
          'junk',
        ],
      },
    ]);
    const set = new RemoteKeySet(url, { cooldownMs: 60_000 });
    expect(await set.key('k1')).toEqual(k1);
    for (const kid of ['private', 'twin', 'weak', 'hmac', 'enc']) expect(await set.key(kid)).toBeUndefined();
  });

  it('refuses a response over the size cap', async () => {
    endpoint([200, { keys: [k1], padding: 'x'.repeat(4096) }]);
    const errors: string[] = [];
    const set = new RemoteKeySet(url, { maxBytes: 1024, onError: (e) => errors.push(e.message) });
    expect(await set.key('k1')).toBeUndefined();
    expect(errors[0]).toMatch(/over the 1024-byte limit/);
  });

  it('gives up after the timeout', async () => {
    nock(origin).get('/jwks.json').delay(2_000).reply(200, { keys: [k1] });
    const errors: Error[] = [];
    const started = Date.now();
    expect(await new RemoteKeySet(url, { timeoutMs: 100, onError: (e) => errors.push(e) }).key('k1')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(errors).toHaveLength(1);
  });

  it('does not follow a redirect away from the registered URL', async () => {
    nock(origin).get('/jwks.json').reply(302, '', { location: 'http://elsewhere.example/jwks.json' });
    nock('http://elsewhere.example').get('/jwks.json').reply(200, { keys: [k1] });
    expect(await new RemoteKeySet(url).key('k1')).toBeUndefined();
  });

  it('fetches over plain http on loopback only', async () => {
    nock('http://127.0.0.1:8443').get('/jwks.json').reply(200, { keys: [k1] });
    expect(await new RemoteKeySet('http://127.0.0.1:8443/jwks.json').key('k1')).toEqual(k1);
    expect(() => new RemoteKeySet('http://keys.partner.example/jwks.json')).toThrow(/only on loopback/);
    expect(() => new RemoteKeySet('ftp://keys.partner.example/jwks.json')).toThrow(/use https/);
  });
});
