/**
 * Reads the partner registry (PROTOCOL.md §6): one YAML file per partner. Every fault
 * names its file and field, because a bad registry must stop the start with a message
 * an operator can act on, not with a verification failure on some later request.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { algorithmsForKey, keyTypeFor, privateJwkMembers, publicJwkProblem } from './jwk-checks.ts';
import { PartnerEntry, type Partner } from './partner.ts';
import { partnerUrlProblem } from './partner-url.ts';

/** A registry file that cannot be used (code `registry-invalid`), with the file and the field at fault. */
export class RegistryInvalidError extends GatewayError {
  readonly file: string;
  /** Dotted path of the field at fault (`keys.algorithms[1]`), or `(yaml)`, `(root)`, `(file)`, `(folder)`. */
  readonly field: string;
  constructor(file: string, field: string, reason: string) {
    super('registry-invalid', `${file}: ${field}: ${reason}`);
    this.name = 'RegistryInvalidError';
    this.file = file;
    this.field = field;
  }
}

/** Reads every *.yaml in `dir` as a partner; throws RegistryInvalidError on the first bad file. */
export function loadRegistry(dir: string, knownFormats: ReadonlySet<string>): Map<string, Partner> {
  let names: string[];
  try {
    // Hidden files are editors' lock and swap files (`.#eu.yaml`), never partners.
    names = readdirSync(dir).filter((name) => name.endsWith('.yaml') && !name.startsWith('.')).sort();
  } catch (error) {
    throw new RegistryInvalidError(dir, '(folder)', (error as Error).message);
  }
  const partners = new Map<string, Partner>();
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const partner = loadPartnerFile(file, knownFormats);
    const earlier = fileOf.get(partner.id);
    if (earlier !== undefined) throw new RegistryInvalidError(file, 'id', `"${partner.id}" is already the id of the partner in ${earlier}`);
    fileOf.set(partner.id, file);
    partners.set(partner.id, partner);
  }
  return partners;
}

/** Reads and validates one partner file. */
export function loadPartnerFile(file: string, knownFormats: ReadonlySet<string>): Partner {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RegistryInvalidError(file, '(file)', (error as Error).message);
  }
  let raw: unknown;
  const lines = new LineCounter();
  try {
    // The core schema, forced even under a `%YAML 1.1` directive, keeps unquoted dates
    // as strings (YAML 1.1 would make them Date objects) and `no`/`yes` as strings.
    const document = parseDocument(text, { uniqueKeys: true, schema: 'core', logLevel: 'silent', prettyErrors: false, lineCounter: lines });
    // A warning (an unknown tag, say) means the data may not be what the file seems to
    // say: a fault like any other, instead of a line on standard error.
    const fault = document.errors[0] ?? document.warnings[0];
    if (fault !== undefined) throw fault;
    raw = document.toJS();
  } catch (error) {
    // One line, with the place: the error names the field as well as a YAML fault allows.
    const offset = (error as { pos?: [number, number] }).pos?.[0];
    const at = offset === undefined ? undefined : lines.linePos(offset);
    throw new RegistryInvalidError(file, '(yaml)', `${(error as Error).message}${at === undefined ? '' : ` at line ${at.line}, column ${at.col}`}`);
  }
  refusePrivateKeys(file, raw);
  const parsed = PartnerEntry.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryInvalidError(file, issue === undefined ? '(root)' : fieldOf(issue), issue?.message ?? 'invalid');
  }
  checkPartner(file, parsed.data, knownFormats);
  // zod hands out its default values by reference (one `benefits: []` for every
  // partner without one): clone before freezing, so the schema's defaults stay untouched.
  return deepFreeze(structuredClone(parsed.data));
}

/**
 * A private member in the registry means a partner's secret has leaked into our
 * configuration: say exactly that, rather than zod's "unrecognized key".
 */
function refusePrivateKeys(file: string, raw: unknown): void {
  const keys = (raw as { keys?: { jwks?: { keys?: unknown } } } | null)?.keys?.jwks?.keys;
  if (!Array.isArray(keys)) return;
  keys.forEach((jwk: unknown, index) => {
    if (typeof jwk !== 'object' || jwk === null) return;
    const member = privateJwkMembers.find((m) => m in jwk);
    if (member !== undefined) {
      throw new RegistryInvalidError(file, `keys.jwks.keys[${index}].${member}`, 'private key material: the registry holds public keys only');
    }
  });
}

/** The checks a schema cannot express: they need the formats, or look across members. */
function checkPartner(file: string, partner: Partner, knownFormats: ReadonlySet<string>): void {
  const fail = (field: string, reason: string): never => {
    throw new RegistryInvalidError(file, field, reason);
  };
  if (!knownFormats.has(partner.format)) fail('format', `unknown format "${partner.format}" (known: ${[...knownFormats].sort().join(', ')})`);

  const { mra } = partner;
  if (mra.inForceFrom !== undefined && mra.inForceUntil != null && mra.inForceUntil < mra.inForceFrom) {
    fail('mra.inForceUntil', `${mra.inForceUntil} is before inForceFrom ${mra.inForceFrom}`);
  }

  const urls = [
    ['keys.jwksUri', partner.keys.jwksUri],
    ['delivery.url', partner.delivery?.url],
  ] as const;
  for (const [field, url] of urls) {
    const problem = url === undefined ? undefined : partnerUrlProblem(url);
    if (problem !== undefined) fail(field, problem);
  }

  const jwks = partner.keys.jwks?.keys;
  if (jwks === undefined) return; // a jwksUri's keys are checked as they are fetched
  const seen = new Set<string>();
  jwks.forEach((jwk, index) => {
    const problem = publicJwkProblem(jwk);
    if (problem !== undefined) fail(`keys.jwks.keys[${index}]${problem.member === undefined ? '' : `.${problem.member}`}`, problem.message);
    if (seen.has(jwk.kid)) fail(`keys.jwks.keys[${index}].kid`, `"${jwk.kid}" is used twice: key ids are unique per partner`);
    seen.add(jwk.kid);
  });
  partner.keys.algorithms.forEach((alg, index) => {
    if (!jwks.some((jwk) => algorithmsForKey(jwk).includes(alg))) {
      fail(`keys.algorithms[${index}]`, `${alg} is allowed but no key in keys.jwks can sign with it (it needs ${keyTypeFor(alg)})`);
    }
  });
}

/** `keys.algorithms[1]`: the path of a zod issue, naming the unknown member itself when there is one. */
function fieldOf(issue: z.core.$ZodIssue): string {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  let field = '';
  for (const segment of path) {
    if (typeof segment === 'number') field += `[${segment}]`;
    else field += field === '' ? String(segment) : `.${String(segment)}`;
  }
  return field === '' ? '(root)' : field;
}

/** Partners are shared by every request: freezing keeps one caller from changing them for all. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
