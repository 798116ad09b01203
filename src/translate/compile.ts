/**
 * Turns a mapping's field rules into the compiled form both directions walk: format
 * path and canonical path as segments, the value type resolved, code tables in both
 * directions, and the shape of every node so that unknown members can be found.
 */
import { GatewayError } from '../errors.ts';
import type { SchemeId } from '../identifiers/schemes.ts';
import { splitPath, TEXT } from '../parse/tree.ts';
import { dotted } from './canonical-path.ts';
import type { FieldRule } from './mapping-schema.ts';
import { valueTypes, type ValueType } from './value-types.ts';

/** Canonical assignments one format code stands for (`{ 'status.code': 'active' }`). */
type Assignments = ReadonlyArray<readonly [path: string[], value: string]>;

export interface CompiledField {
  /** Canonical path, relative to the record (or to the enclosing object or list item). */
  canonical: string[];
  /** Format path, relative to the enclosing node. */
  path: string[];
  kind: 'scalar' | 'const' | 'object' | 'list';
  /** Absent or null is allowed. */
  optional: boolean;
  /** Null is allowed but the member must be present (`nullable`, as the CA ICD says). */
  presenceRequired: boolean;
  type: ValueType;
  check?: SchemeId;
  pattern?: RegExp;
  /** Format code → canonical assignments. */
  codesIn?: ReadonlyMap<string, Assignments>;
  /** Tried in order when writing: the first whose assignments all hold is written. */
  codesOut?: ReadonlyArray<readonly [code: string, assignments: Assignments]>;
  constValue?: string | boolean;
  children?: CompiledField[];
  split?: string;
}

/** Allowed member names at each level of a format node; `TEXT` marks a node read as text. */
export interface Shape {
  members: Map<string, Shape>;
}

const newShape = (): Shape => ({ members: new Map() });

/** Compiles a rule table (canonical path → rule); `where` names it in errors. */
export function compileFields(rules: Record<string, FieldRule | string>, where: string): CompiledField[] {
  return Object.entries(rules).map(([canonical, raw]) => compileField(canonical, typeof raw === 'string' ? { path: raw } : raw, `${where}.${canonical}`));
}

function compileField(canonical: string, rule: FieldRule, where: string): CompiledField {
  const base = {
    canonical: dotted(canonical),
    path: splitPath(rule.path ?? ''),
    optional: (rule.optional ?? false) || (rule.nullable ?? false),
    presenceRequired: (rule.nullable ?? false) && !(rule.optional ?? false),
    type: valueTypes[rule.type ?? 'text'],
  };
  if (rule.const !== undefined) {
    if (rule.path !== undefined) throw new GatewayError('mapping-invalid', `${where}: a const field has no path`);
    return { ...base, kind: 'const', constValue: rule.const };
  }
  if (rule.path === undefined) throw new GatewayError('mapping-invalid', `${where}: path is required`);
  if (rule.map) return { ...base, kind: 'object', children: compileFields(rule.map, where) };
  if (rule.each) {
    return { ...base, kind: 'list', children: compileFields(rule.each, where), ...(rule.split !== undefined && { split: rule.split }) };
  }
  const field: CompiledField = { ...base, kind: 'scalar' };
  if (rule.check) field.check = rule.check as SchemeId;
  if (rule.pattern) field.pattern = compilePattern(rule.pattern, where);
  if (rule.codes) {
    const entries = Object.entries(rule.codes).map(([code, target]): [string, Assignments] => [
      code,
      typeof target === 'string' ? [[field.canonical, target]] : Object.entries(target).map(([p, v]) => [dotted(p), v] as const),
    ]);
    field.codesIn = new Map(entries);
    const outboundOnly = Object.entries(rule.outboundCodes ?? {}).map(([code, target]): [string, Assignments] => [code, [[field.canonical, target]]]);
    // Most specific first, so that `TIER3 → active + TIER3` wins over a bare `active`.
    field.codesOut = [...entries, ...outboundOnly].sort((a, b) => b[1].length - a[1].length);
  }
  return field;
}

/** Canonical path (`address.city`) → format path, for naming the place of a fault found on canonical fields. */
export function formatPaths(fields: readonly CompiledField[], into = new Map<string, string[]>(), canonicalAt: string[] = [], formatAt: string[] = []): Map<string, string[]> {
  for (const field of fields) {
    if (field.kind === 'const') continue;
    const canonical = [...canonicalAt, ...field.canonical];
    const path = [...formatAt, ...field.path];
    if (!into.has(canonical.join('.'))) into.set(canonical.join('.'), path);
    if (field.kind === 'object') formatPaths(field.children!, into, canonical, path);
  }
  return into;
}

/** Compiles a regular expression from a mapping, anchored, or fails the load. */
export function compilePattern(source: string, where: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (error) {
    throw new GatewayError('mapping-invalid', `${where}: pattern is not a valid regular expression (${(error as Error).message})`);
  }
}

/** The shape of the nodes the fields read, for finding members no rule names. */
export function shapeOf(fields: readonly CompiledField[], shape: Shape = newShape()): Shape {
  for (const field of fields) {
    if (field.kind === 'const') continue;
    let at = shape;
    for (const segment of field.path) {
      let next = at.members.get(segment);
      if (!next) {
        next = newShape();
        at.members.set(segment, next);
      }
      at = next;
    }
    if (field.kind === 'scalar' || (field.kind === 'list' && field.split === undefined && field.children!.some((c) => c.path.length === 0))) {
      at.members.set(TEXT, newShape());
    }
    if (field.children) shapeOf(field.children, at);
  }
  return shape;
}
