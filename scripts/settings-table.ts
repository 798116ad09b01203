/** The README's settings table, made from the settings schema (`npx tsx scripts/settings-table.ts` prints it); a test keeps the two in step. */
import { pathToFileURL } from 'node:url';
import { loadSettings, settingsSchema } from '../src/config.ts';

export function settingsTable(): string {
  const defaults = loadSettings({}) as Record<string, unknown>;
  const rows = Object.entries(settingsSchema().shape).map(([name, schema]) => {
    const value = defaults[name];
    const shown = value === undefined ? 'unset' : value === '' ? 'empty' : `\`${String(value)}\``;
    return `| \`${name}\` | ${shown} | ${(schema as { description?: string }).description ?? ''} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(`${settingsTable()}\n`);
