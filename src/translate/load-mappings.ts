/**
 * Loads every mapping in `mappings/`, validates each against the mapping schema and
 * compiles it. Any fault stops the load with the file and field named: a bad mapping
 * must stop the start, never a request.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { GatewayError } from '../errors.ts';
import { compileFormat, type Format } from './format.ts';
import { MappingSchema } from './mapping-schema.ts';

/** The `mappings/` folder shipped with the gateway. */
export const defaultMappingsDir = resolve(fileURLToPath(import.meta.url), '../../../mappings');

/** Reads, validates and compiles one mapping file. */
export function loadMappingFile(file: string): Format {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'), { uniqueKeys: true });
  } catch (error) {
    throw new GatewayError('mapping-invalid', `${file}: ${(error as Error).message}`);
  }
  const parsed = MappingSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((i) => explain(i)).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new GatewayError('mapping-invalid', `${file}: ${issues.join('; ')}`);
  }
  return compileFormat(parsed.data, file);
}

type Issue = { path: PropertyKey[]; message: string; code?: string; errors?: Issue[][] };

/**
 * zod reports a value matching no branch of a union (a rule written as a string or as
 * an object) as one vague issue; the branch that got furthest says what is wrong.
 */
function explain(issue: Issue): { path: PropertyKey[]; message: string }[] {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [issue];
  const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  return best.flatMap((i) => explain({ ...i, path: [...issue.path, ...i.path] }));
}

/** Every format in a folder, by format id. */
export function loadFormats(dir: string = defaultMappingsDir): Map<string, Format> {
  const formats = new Map<string, Format>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    const format = loadMappingFile(join(dir, name));
    if (`${format.id}.yaml` !== name) throw new GatewayError('mapping-invalid', `${join(dir, name)}: format "${format.id}" must live in ${format.id}.yaml`);
    formats.set(format.id, format);
  }
  return formats;
}
