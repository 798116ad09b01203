/** Writes schemas/*.json from the zod model (`npm run schemas`); a test keeps them in sync. */
import { writeFileSync } from 'node:fs';
import { canonicalJsonSchemas } from '../src/canonical/json-schemas.ts';

for (const [name, schema] of Object.entries(canonicalJsonSchemas())) {
  writeFileSync(new URL(`../schemas/${name}`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
}
