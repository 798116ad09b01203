import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings, settingsSchema } from '../../src/config.ts';

describe('settings', () => {
  it('defaults every setting when the environment is empty', () => {
    expect(loadSettings({})).toEqual({ GATEWAY_ID: 'US-CBP-DEV' });
  });

  it('names every bad variable in one error', () => {
    expect(() => loadSettings({ GATEWAY_ID: 'us cbp' })).toThrow(/GATEWAY_ID: a party id/);
  });

  it("the README's table lists exactly the settings the schema reads, with their defaults", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Settings')[1]!.split('\n## ')[0]!;
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| `?([^|`]*)`? \|/gm)].map((m) => [m[1], m[2]!.trim()]);
    const defaults = loadSettings({}) as Record<string, unknown>;
    expect(rows).toEqual(Object.keys(settingsSchema.shape).map((name) => [name, String(defaults[name])]));
  });
});
