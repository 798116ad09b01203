import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { RegistryInvalidError } from '../../src/registry/load-registry.ts';
import type { PublicJwk } from '../../src/registry/partner.ts';
import { Registry, type RegistryOptions } from '../../src/registry/registry.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';

const knownFormats = new Set(['eu-aeo', 'jp-aeo', 'kr-aeo']);

function ecJwk(kid: string): PublicJwk {
  const { kty, crv, x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return { kty: kty as 'EC', crv: crv!, x: x!, y: y!, kid, alg: 'ES256', use: 'sig' };
}

function entry(id: string, keys: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: id, programme: `${id}-AEO`, format: 'eu-aeo', keys: { algorithms: ['ES256'], ...keys }, ...extra };
}

let dir: string;
let registry: Registry | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'registry-'));
});
afterEach(() => {
  registry?.stop();
  registry = undefined;
  vi.useRealTimers();
  nock.cleanAll();
  rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

function write(name: string, content: Record<string, unknown> | string): void {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
}

function open(options: Partial<RegistryOptions> = {}): Registry {
  registry = new Registry({ dir, knownFormats, ...options });
  return registry;
}

describe('Registry', () => {
  it('serves the shipped registry', async () => {
    const shipped = new Registry({ dir: 'config/partners', knownFormats: new Set(loadFormats().keys()) });
    expect(shipped.partners().map((p) => p.id)).toEqual(['CA', 'EU', 'GB', 'JP', 'KR', 'MX']);
    expect((await shipped.key('EU', 'eu-dev-es256'))?.crv).toBe('P-256');
    expect(await shipped.key('EU', 'jp-dev-es256')).toBeUndefined(); // another partner's kid
  });

  it('finds partners and inline keys by id and kid only', async () => {
    const k1 = ecJwk('k1');
    write('jp.yaml', entry('JP', { jwks: { keys: [ecJwk('j1')] } }, { format: 'jp-aeo' }));
    write('eu.yaml', entry('EU', { jwks: { keys: [k1] } }));
    const reg = open();
    expect(reg.partner('EU')?.name).toBe('EU');
    expect(reg.partner('XX')).toBeUndefined();
    expect(reg.partners().map((p) => p.id)).toEqual(['EU', 'JP']);
    expect(await reg.key('EU', 'k1')).toEqual(k1);
    expect(await reg.key('EU', 'j1')).toBeUndefined();
    expect(await reg.key('XX', 'k1')).toBeUndefined();
  });

  it('does not start on a bad file', () => {
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('k1')] } }, { format: 'nope' }));
    expect(() => open()).toThrow(/eu\.yaml: format: unknown format/);
  });

  it('keeps the last good version when a reload meets a bad file, and reports it', async () => {
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('k1')] } }));
    const errors: RegistryInvalidError[] = [];
    const reloads: string[][] = [];
    const reg = open({ onReloadError: (e) => errors.push(e), onReload: (ids) => reloads.push(ids) });
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('k2')] } }, { mra: { benefits: ['free-lunch'] } }));
    write('jp.yaml', entry('JP', { jwks: { keys: [ecJwk('j1')] } }));
    expect(reg.reload()).toBe(false);
    expect(errors.map((e) => [e.file, e.field])).toEqual([[join(dir, 'eu.yaml'), 'mra.benefits[0]']]);
    expect(reg.partners().map((p) => p.id)).toEqual(['EU']);
    expect(await reg.key('EU', 'k1')).toBeDefined();
    expect(reloads).toEqual([]);

    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('k2')] } }));
    expect(reg.reload()).toBe(true);
    expect(reloads).toEqual([['EU', 'JP']]);
  });

  it('reports a folder that vanished instead of throwing', () => {
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('k1')] } }));
    const errors: RegistryInvalidError[] = [];
    const reg = open({ onReloadError: (e) => errors.push(e) });
    rmSync(dir, { recursive: true });
    expect(reg.reload()).toBe(false);
    expect(errors[0]?.field).toBe('(folder)');
    expect(reg.partner('EU')).toBeDefined();
  });

  it('picks up a rotated inline key and a suspension on reload', async () => {
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('2025-a')] } }));
    const reg = open();
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('2026-b')] } }, { status: 'suspended' }));
    expect(reg.reload()).toBe(true);
    expect(await reg.key('EU', '2025-a')).toBeUndefined();
    expect(await reg.key('EU', '2026-b')).toBeDefined();
    expect(reg.partner('EU')?.status).toBe('suspended');
  });

  it('reloads on its timer once started, tells of changes only, and stops', () => {
    vi.useFakeTimers();
    write('eu.yaml', entry('EU', { jwks: { keys: [ecJwk('k1')] } }));
    const reloads: string[][] = [];
    const reg = open({ reloadIntervalMs: 60_000, onReload: (ids) => reloads.push(ids) });
    reg.start();
    reg.start(); // idempotent: one timer
    vi.advanceTimersByTime(120_000);
    expect(reloads).toEqual([]); // re-read, unchanged
    write('jp.yaml', entry('JP', { jwks: { keys: [ecJwk('j1')] } }));
    vi.advanceTimersByTime(59_999);
    expect(reg.partner('JP')).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(reloads).toEqual([['EU', 'JP']]);
    reg.stop();
    write('kr.yaml', entry('KR', { jwks: { keys: [ecJwk('r1')] } }));
    vi.advanceTimersByTime(600_000);
    expect(reg.partner('KR')).toBeUndefined();
  });

  describe('with a jwksUri', () => {
    const origin = 'https://keys.eu.example';

    function endpoint(...sets: PublicJwk[][]): { requests: () => number } {
      let requests = 0;
      nock(origin)
        .get('/jwks.json')
        .times(100)
        .reply(() => {
          const keys = sets[Math.min(requests, sets.length - 1)]!;
          requests += 1;
          return [200, { keys }];
        });
      return { requests: () => requests };
    }

    beforeEach(() => {
      // Only Date is faked: the cooldown reads the clock, while fetch keeps its real timers.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-27T00:00:00Z'));
      write('eu.yaml', entry('EU', { jwksUri: `${origin}/jwks.json` }));
    });

    it('finds a key, refetches once on an unknown kid, and not again within the cooldown', async () => {
      const [k1, k2] = [ecJwk('k1'), ecJwk('k2')];
      const server = endpoint([k1], [k1, k2]);
      const reg = open({ jwksCooldownMs: 30_000 });
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      expect(server.requests()).toBe(1);

      vi.setSystemTime(new Date('2026-11-27T00:01:00Z'));
      expect(await reg.key('EU', 'k2')).toEqual(k2); // unknown: one refetch
      expect(server.requests()).toBe(2);

      vi.setSystemTime(new Date('2026-11-27T00:01:10Z'));
      expect(await reg.key('EU', 'k3')).toBeUndefined(); // a second unknown kid within the cooldown
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      expect(server.requests()).toBe(2);
    });

    it('keeps the last good set when the endpoint fails, reporting the failure', async () => {
      const k1 = ecJwk('k1');
      let requests = 0;
      nock(origin)
        .get('/jwks.json')
        .times(100)
        .reply(() => (requests++ === 0 ? [200, { keys: [k1] }] : [500, 'broken']));
      const failures: string[] = [];
      const reg = open({ jwksCooldownMs: 1_000, onJwksError: (id, e) => failures.push(`${id} ${e.message}`) });
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      vi.setSystemTime(new Date('2026-11-27T00:00:05Z'));
      expect(await reg.key('EU', 'k9')).toBeUndefined();
      vi.setSystemTime(new Date('2026-11-27T01:00:00Z')); // stale: refetched, and failing
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      expect(failures).toEqual([`EU ${origin}/jwks.json: HTTP 500`, `EU ${origin}/jwks.json: HTTP 500`]);
    });

    it('keeps the cache across a reload that leaves the URL as it was, and drops it when the URL changes', async () => {
      const k1 = ecJwk('k1');
      const server = endpoint([k1]);
      const reg = open();
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      expect(reg.reload()).toBe(true);
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      expect(server.requests()).toBe(1);

      const k2 = ecJwk('k2');
      nock('https://keys2.eu.example').get('/jwks.json').reply(200, { keys: [k2] });
      write('eu.yaml', entry('EU', { jwksUri: 'https://keys2.eu.example/jwks.json' }));
      expect(reg.reload()).toBe(true);
      expect(await reg.key('EU', 'k1')).toBeUndefined();
      expect(await reg.key('EU', 'k2')).toEqual(k2);
    });

    it('uses an injected fetch', async () => {
      const k1 = ecJwk('k1');
      const calls: string[] = [];
      const fakeFetch = (async (input: string | URL | Request) => {
        calls.push(String(input));
        return new Response(JSON.stringify({ keys: [k1] }), { status: 200 });
      }) as typeof fetch;
      const reg = open({ fetch: fakeFetch });
      expect(await reg.key('EU', 'k1')).toEqual(k1);
      expect(calls).toEqual([`${origin}/jwks.json`]);
    });

    it('refuses plain http to a non-loopback host at load', () => {
      write('eu.yaml', entry('EU', { jwksUri: 'http://keys.eu.example/jwks.json' }));
      expect(() => open()).toThrow(/keys\.jwksUri: plain http is accepted only on loopback/);
    });
  });
});
