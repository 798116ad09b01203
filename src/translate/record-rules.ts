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
  if (!condition) return true;
  return Object.entries(condition).every(([path, values]) => values.includes(String(getAt(record, dotted(path)))));
}

/** Compiles one rule of a mapping; `where` names it in load errors. */
export function compileRule(rule: RecordRule, where: string): CompiledRule {
  const agree = rule.agree && { ...rule.agree, regex: new RegExp(compilePattern(rule.agree.capture, where).source.replace(/\$$/, '')) };
  return (record) => {
    if (!holds(rule.when, record)) return undefined;
    if (rule.unless && holds(rule.unless, record)) return undefined;
    for (const path of rule.require ?? []) if (!present(getAt(record, dotted(path)))) return { field: path, message: rule.message };
    for (const path of rule.forbid ?? []) if (present(getAt(record, dotted(path)))) return { field: path, message: rule.message };
    if (agree) {
      const value = getAt(record, dotted(agree.field));
      const other = getAt(record, dotted(agree.with));
      // Only a value of the agreed form constrains the field (a C-TPAT key on the way out has none).
      const captured = typeof other === 'string' ? agree.regex.exec(other)?.[1] : undefined;
      if (value !== undefined && captured !== undefined && captured !== value) return { field: agree.field, message: rule.message };
    }
    return undefined;
  };
}
