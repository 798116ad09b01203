import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.ts';
import { GatewayError } from '../../src/errors.ts';
import { settingsTable } from '../../scripts/settings-table.ts';

describe('settings', () => {
  it('defaults every setting when the environment is empty: no setting is required', () => {
    expect(loadSettings({})).toMatchObject({ GATEWAY_ID: 'US-CBP-DEV', PORT: 8080, HOST: '127.0.0.1', PARTNERS_DIR: 'config/partners', DATA_DIR: './data', IAT_SKEW_S: 300 });
  });

  it('names every bad variable in one error', () => {
    expect(() => loadSettings({ GATEWAY_ID: 'us cbp', PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT: [\s\S]*GATEWAY_ID: a party id[\s\S]*LOG_LEVEL: /);
  });

  it('takes HEAP_GROWTH_PERCENT as a whole percent from 1 to 300', () => {
    expect(loadSettings({ HEAP_GROWTH_PERCENT: '25' }).HEAP_GROWTH_PERCENT).toBe(25);
    for (const bad of ['0', '301', '12.5', 'half']) expect(settingsError({ HEAP_GROWTH_PERCENT: bad }).message).toMatch(/HEAP_GROWTH_PERCENT: /);
  });

  it('ignores variables that are not settings, and empty ones', () => {
    expect(loadSettings({ PATH: '/bin', PORT: '' }).PORT).toBe(8080);
  });

  it('names every fault at once, the rules between settings with the single bad values', () => {
    const error = settingsError({ PORT: 'eighty', STAFF_JWKS: 'http://idp.example/jwks.json', SIGNING_KEY_FILE: 'a.pem', SIGNING_KEYS_DIR: 'keys' }, 'serve');
    expect(error.code).toBe('settings-invalid');
    expect(error.issues.map((i) => i.path.join('.')).sort()).toEqual(['DATABASE_URL', 'PORT', 'SIGNING_KEYS_DIR', 'STAFF_AUDIENCE', 'STAFF_ISSUER', 'STAFF_JWKS']);
    expect(error.message).toMatch(/STAFF_JWKS: plain http is accepted only on loopback/);
  });

  it('serve and work need DATABASE_URL and a shared signing key; start and the other commands do not', () => {
    for (const role of ['serve', 'work'] as const) {
      const error = settingsError({}, role);
      expect(error.issues.map((i) => i.path[0])).toEqual(['DATABASE_URL', 'SIGNING_KEY_FILE']);
      expect(error.message).toMatch(/DATABASE_URL: [\s\S]*SIGNING_KEY_FILE: .*set SIGNING_KEY_FILE or SIGNING_KEYS_DIR/);
    }
    expect(loadSettings({}, 'start').DATABASE_URL).toBeUndefined();
    expect(loadSettings({ DATABASE_URL: 'postgres://db/mra', SIGNING_KEYS_DIR: '/keys' }, 'work').SIGNING_KEYS_DIR).toBe('/keys');
  });

  it('takes SIGNING_KEY_FILE or SIGNING_KEYS_DIR, not both', () => {
    expect(settingsError({ SIGNING_KEY_FILE: 'a.pem', SIGNING_KEYS_DIR: 'keys' }).message).toMatch(/SIGNING_KEYS_DIR: SIGNING_KEY_FILE and SIGNING_KEYS_DIR are alternatives/);
  });

  it('needs STAFF_ISSUER and STAFF_AUDIENCE with STAFF_JWKS, and an https STAFF_JWKS unless it is on loopback', () => {
    expect(settingsError({ STAFF_JWKS: 'staff.jwks.json', STAFF_AUDIENCE: 'mragw' }).message).toMatch(/STAFF_ISSUER: required with STAFF_JWKS/);
    expect(settingsError({ STAFF_JWKS: 'staff.jwks.json', STAFF_ISSUER: 'https://idp/' }).message).toMatch(/STAFF_AUDIENCE: required with STAFF_JWKS/);
    const staff = { STAFF_ISSUER: 'https://idp/', STAFF_AUDIENCE: 'mragw' };
    expect(settingsError({ ...staff, STAFF_JWKS: 'ftp://idp.example/jwks.json' }).message).toMatch(/STAFF_JWKS: scheme ftp: is not accepted/);
    expect(loadSettings({ ...staff, STAFF_JWKS: 'http://127.0.0.1:9/jwks.json' }).STAFF_JWKS).toBe('http://127.0.0.1:9/jwks.json');
    expect(loadSettings({ ...staff, STAFF_JWKS: 'https://idp.example/jwks.json' }).STAFF_JWKS).toBe('https://idp.example/jwks.json');
  });

  it('refuses MRAGW_DEV_STAFF=1 off a loopback HOST, unless STAFF_JWKS is what the gateway uses', () => {
    expect(settingsError({ MRAGW_DEV_STAFF: '1', HOST: '0.0.0.0' }).message).toMatch(/MRAGW_DEV_STAFF: 1 is refused unless HOST is a loopback address \(HOST is 0\.0\.0\.0\)/);
    expect(loadSettings({ MRAGW_DEV_STAFF: '1', HOST: '::1' }).MRAGW_DEV_STAFF).toBe('1');
  });

  it("the README's table is the one the schema makes (npx tsx scripts/settings-table.ts)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable());
  });
});

/** The error loadSettings throws for `env`. */
function settingsError(env: Record<string, string>, role?: 'start' | 'serve' | 'work'): GatewayError {
  try {
    loadSettings(env, role);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('the settings were taken');
}
