/** Checks across the fields of one canonical record (mapping `rules`), both directions. */
import { getAt, dotted } from './canonical-path.ts';
import { compilePattern } from './compile.ts';
import type { RecordRule } from './mapping-schema.ts';

export interface RuleBreach {
  field: string;
  message: string;
}

export type CompiledRule = (record: unknown) => RuleBreach | undefined;

const present = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);

/** Whether every path of the condition holds one of its values. */
export function holds(condition: Record<string, string[]> | undefined, record: unknown): boolean {
  return conditionOf(condition)(record);
}

/** A condition with its paths split once, for a rule that runs on every record. */
function conditionOf(condition: Record<string, string[]> | undefined): (record: unknown) => boolean {
  if (!condition) return () => true;
  const tests = Object.entries(condition).map(([path, values]) => [dotted(path), values] as const);
  return (record) => tests.every(([path, values]) => values.includes(String(getAt(record, path))));
}

/** Compiles one rule of a mapping; `where` names it in load errors. */
export function compileRule(rule: RecordRule, where: string): CompiledRule {
  const when = rule.when && conditionOf(rule.when);
  const unless = rule.unless && conditionOf(rule.unless);
  const required = (rule.require ?? []).map((path) => [path, dotted(path)] as const);
  const forbidden = (rule.forbid ?? []).map((path) => [path, dotted(path)] as const);
  const agree = rule.agree && {
    field: rule.agree.field,
    fieldPath: dotted(rule.agree.field),
    withPath: dotted(rule.agree.with),
    regex: new RegExp(compilePattern(rule.agree.capture, where).source.replace(/\$$/, '')),
  };
  return (record) => {
    if (when && !when(record)) return undefined;
    if (unless && unless(record)) return undefined;
    for (const [field, path] of required) if (!present(getAt(record, path))) return { field, message: rule.message };
    for (const [field, path] of forbidden) if (present(getAt(record, path))) return { field, message: rule.message };
    if (agree) {
      const value = getAt(record, agree.fieldPath);
      const other = getAt(record, agree.withPath);
      // Only a value of the agreed form constrains the field (a C-TPAT key on the way out has none).
      const captured = typeof other === 'string' ? agree.regex.exec(other)?.[1] : undefined;
      if (value !== undefined && captured !== undefined && captured !== value) return { field: agree.field, message: rule.message };
    }
    return undefined;
  };
}
