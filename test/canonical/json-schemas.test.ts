import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJsonSchemas } from '../../src/canonical/json-schemas.ts';

describe('schemas/', () => {
  it.each(Object.entries(canonicalJsonSchemas()))('%s matches the zod model (run npm run schemas after changing it)', (name, schema) => {
    const onDisk = JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as unknown;
    expect(onDisk).toEqual(schema);
  });
});
