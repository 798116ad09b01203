/** The canonical model as JSON Schema documents, for partners and tools that do not read zod. */
import { z } from 'zod';
import { Batch } from './batch.ts';
import { Operator } from './operator.ts';

/** File name in `schemas/` → JSON Schema. */
export function canonicalJsonSchemas(): Record<string, unknown> {
  const schema = (type: z.ZodType, id: string, title: string) => ({
    $id: `urn:mra-gateway:schema:${id}`,
    title,
    ...z.toJSONSchema(type, { io: 'input', target: 'draft-2020-12' }),
  });
  return {
    'operator.schema.json': schema(Operator, 'operator', 'Canonical operator record'),
    'batch.schema.json': schema(Batch, 'batch', 'Canonical batch'),
  };
}
