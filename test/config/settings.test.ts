import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.ts';
import { settingsTable } from '../../scripts/settings-table.ts';

describe('settings', () => {
  it('defaults every setting when the environment is empty: no setting is required', () => {
    expect(loadSettings({})).toMatchObject({ GATEWAY_ID: 'US-CBP-DEV', PORT: 8080, HOST: '127.0.0.1', PARTNERS_DIR: 'config/partners', DATA_DIR: './data', IAT_SKEW_S: 300 });
  });

  it('names every bad variable in one error', () => {
    expect(() => loadSettings({ GATEWAY_ID: 'us cbp', PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT: [\s\S]*GATEWAY_ID: a party id[\s\S]*LOG_LEVEL: /);
  });

  it('ignores variables that are not settings, and empty ones', () => {
    expect(loadSettings({ PATH: '/bin', PORT: '' }).PORT).toBe(8080);
  });

  it("the README's table is the one the schema makes (npx tsx scripts/settings-table.ts)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable());
  });
});
