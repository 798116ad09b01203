/**
 * C-TPAT members in a partner's format (FORMATS.md, "Outbound"). A member read from the
 * C-TPAT export becomes a record in the partner's canonical flavour through the
 * mapping's `outbound` rules; which members go at all is the C-TPAT rule below plus the
 * partner's business-type list, which the caller passes from the registry.
 */
import { randomUUID } from 'node:crypto';
import type { Batch, BatchKind } from '../canonical/batch.ts';
import type { Operator } from '../canonical/operator.ts';
import { deleteAt, dotted, getAt, setAt, setterAt } from './canonical-path.ts';
import { compilePattern } from './compile.ts';
import type { Format } from './format.ts';
import type { OutboundRule } from './mapping-schema.ts';
import { textTransforms } from './text-transforms.ts';
import { getterOf } from './write-record.ts';

/** Only members with consent and a status other than applicant are ever sent to a partner. */
export function eligibleMember(member: Operator): boolean {
  return member.consent?.given === true && member.status.code !== 'applicant';
}

/** A rule of the mapping's `outbound.set`, its paths split and its template cut once per format rather than once per member. */
interface CompiledOutboundRule {
  rule: OutboundRule;
  target: string[];
  /** `getAt` and `setAt` at `target`, and `getAt` at `from`, each a function of its own: one inline cache per path, not one shared by all (canonical-path.ts `setterAt`). */
  get: (root: unknown) => unknown;
  set: (root: Record<string, unknown>, value: unknown) => void;
  getFrom: ((root: unknown) => unknown) | undefined;
  /** `target` and one more segment: the way to the list an `each` rule changes, the list included. */
  through: string[];
  from: string[] | undefined;
  when: [get: (root: unknown) => unknown, values: string[]][] | undefined;
  /** Literal text and getters of member paths in turn: even indexes literal, odd ones getters. */
  template: (string | ((root: unknown) => unknown))[] | undefined;
  /** Compiled on first use, so that a mapping's pattern fails where it did before: when a member reaches it. */
  pattern: RegExp | undefined;
  where: string;
  each: CompiledOutboundRule[] | undefined;
}

const compiledRules = new WeakMap<Format, CompiledOutboundRule[]>();

const beyondLatin1 = /[^\x00-\xff]/; // eslint-disable-line no-control-regex -- every Latin-1 character, control characters included

/**
 * The same text in a string of its own, held one byte per character where it can be.
 * Text parsed from a mapping file with any character beyond Latin-1 (an em dash in a
 * comment) is held two bytes per character, and so is V8's one string for that text,
 * which a literal with the same text in generated code also gets; every string built
 * with one is two bytes per character too: a record's text built with "CTPAT" was twice
 * as large to flatten, to encode and to hash.
 */
export const oneByte = (text: string): string => (beyondLatin1.test(text) ? text : Buffer.from(text, 'latin1').toString('latin1'));

/** A rule with the text it writes (`const`, `default`, the codes' values) held one byte per character where it can be; the same values. */
function withOneByteText(rule: OutboundRule): OutboundRule {
  const text = <T>(value: T): T => (typeof value === 'string' ? (oneByte(value) as T) : value);
  const codes = rule.codes && Object.fromEntries(Object.entries(rule.codes).map(([from, to]) => [from, oneByte(to)]));
  return { ...rule, ...(rule.const !== undefined && { const: text(rule.const) }), ...(rule.default !== undefined && { default: oneByte(rule.default) }), ...(codes && { codes }) };
}

function compileOutboundRule(path: string, mappingRule: OutboundRule, where: string): CompiledOutboundRule {
  const rule = withOneByteText(mappingRule);
  let template: (string | ((root: unknown) => unknown))[] | undefined;
  if (rule.template !== undefined) {
    // split with a capture group alternates literal text and the captured placeholder names.
    template = rule.template.split(/\{([a-zA-Z.]+)\}/).map((part, i) => (i % 2 === 1 ? getterOf(dotted(part)) : oneByte(part)));
  }
  return {
    rule,
    target: dotted(path),
    get: getterOf(dotted(path)),
    set: setterAt(dotted(path)),
    getFrom: rule.from === undefined ? undefined : getterOf(dotted(rule.from)),
    through: [...dotted(path), ''],
    from: rule.from === undefined ? undefined : dotted(rule.from),
    when: rule.when && Object.entries(rule.when).map(([p, values]) => [getterOf(dotted(p)), values]),
    template,
    pattern: undefined,
    where,
    each: rule.each && Object.entries(rule.each).map(([sub, itemRule]) => compileOutboundRule(sub, itemRule as OutboundRule, `${where}.${sub}`)),
  };
}

function outboundRulesOf(format: Format): CompiledOutboundRule[] {
  let rules = compiledRules.get(format);
  if (rules === undefined) {
    rules = Object.entries(format.mapping.outbound?.set ?? {}).map(([path, rule]) => compileOutboundRule(path, rule, `${format.id} outbound ${path}`));
    compiledRules.set(format, rules);
  }
  return rules;
}

/** A copy of a record's JSON data: what structuredClone gives for such data, without its serialization. */
function copyData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyData);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyData((value as Record<string, unknown>)[key]);
  return out;
}

function fillTemplate(parts: readonly (string | ((root: unknown) => unknown))[], member: Operator): string {
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : String(part(member) ?? '');
  return out;
}

function evaluate(compiled: CompiledOutboundRule, member: Operator, current: unknown): unknown {
  const { rule } = compiled;
  if (compiled.when && !compiled.when.every(([get, values]) => values.includes(String(get(member))))) return undefined;
  if (rule.const !== undefined) return rule.const === null ? undefined : rule.const;
  if (compiled.template) return fillTemplate(compiled.template, member);
  let value = compiled.getFrom !== undefined ? compiled.getFrom(member) : current;
  if (value === undefined || value === null) return rule.default;
  if (rule.transform) value = textTransforms[rule.transform](String(value));
  if (rule.codes) value = rule.codes[String(value)] ?? rule.default;
  if (rule.pattern !== undefined) {
    compiled.pattern ??= compilePattern(rule.pattern, compiled.where);
    if (!compiled.pattern.test(String(value))) return undefined;
  }
  return value;
}

function apply(compiled: CompiledOutboundRule, member: Operator, into: Record<string, unknown>, current: unknown): void {
  const v = evaluate(compiled, member, current);
  if (v === undefined) deleteAt(into, compiled.target);
  // A list item that is no object: setAt fails on it as it always has (a generated setter, not in strict mode, would pass over a string).
  else if (typeof into !== 'object' || into === null) setAt(into, compiled.target, v);
  else compiled.set(into, v);
}

/** An array's items or an object's members, in order, in a container of its own. */
const shallowCopy = (value: object): object => (Array.isArray(value) ? value.slice() : { ...value });

/**
 * Gives `root` containers of its own on the way to `path`'s last segment (copying those
 * still shared with the member), so that setting or deleting there leaves the member as
 * it was. `owned` lists the containers already copied for this record.
 */
function ownWay(root: Record<string, unknown>, path: readonly string[], owned: object[]): void {
  let cur = root;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    let next = cur[segment];
    // Nothing there, or not a container: setAt puts a fresh object in its place, deleteAt finds nothing to delete.
    if (typeof next !== 'object' || next === null) return;
    if (!owned.includes(next)) {
      next = shallowCopy(next);
      cur[segment] = next;
      owned.push(next as object);
    }
    cur = next as Record<string, unknown>;
  }
}

/**
 * `memberToPartnerRecord` that copies only what the rules change: the record's own
 * members, and the objects on the way to a rule's target; everything else is the
 * member's own, shared. For a caller that only reads the record (planning a document
 * digests and writes each record, then drops it), where copying all of every member was
 * as costly as JSON.stringify of it. The record must not be changed.
 */
export function memberToPartnerRecordSharing(format: Format, member: Operator): Operator {
  const record = { ...(member as unknown as Record<string, unknown>) };
  const owned: object[] = [record];
  for (const compiled of outboundRulesOf(format)) {
    if (compiled.each) {
      // The list itself, and then each item, become the record's own before the item rules change them.
      ownWay(record, compiled.through, owned);
      const items = getAt(record, compiled.target);
      if (!Array.isArray(items)) continue;
      for (let i = 0; i < items.length; i++) {
        let item: unknown = items[i];
        if (typeof item === 'object' && item !== null && !owned.includes(item)) {
          item = shallowCopy(item);
          items[i] = item;
          owned.push(item as object);
        }
        for (const itemRule of compiled.each) {
          ownWay(item as Record<string, unknown>, itemRule.target, owned);
          apply(itemRule, member, item as Record<string, unknown>, itemRule.get(item));
        }
      }
      continue;
    }
    ownWay(record, compiled.target, owned);
    apply(compiled, member, record, compiled.get(record));
  }
  return record as unknown as Operator;
}

/** What `outboundValuesOf` gives: where each rule of the mapping's `outbound.set` puts its value, and the values for a member. */
export interface OutboundValues {
  /** The targets of the rules that set one value, in order. */
  targets: readonly (readonly string[])[];
  /** Each of those rules' value for the member, in the same order: what the rule sets, or undefined where it removes. */
  values: (member: Operator) => unknown[];
  /** The rules on a list's items (`each`): the list's path, and where each item rule puts its value and what that is for an item (an object) of the member's list. */
  lists: readonly { target: readonly string[]; items: readonly { target: readonly string[]; value: (member: Operator, item: unknown) => unknown }[] }[];
}

const outboundValues = new WeakMap<Format, OutboundValues | null>();

const onTheWay = (a: readonly string[], b: readonly string[]) => a.length <= b.length && a.every((segment, i) => segment === b[i]);
const independent = (targets: readonly (readonly string[])[]) => targets.every((t, i) => targets.every((o, j) => i === j || !onTheWay(t, o)));

/**
 * The outbound rules' values for a member without making its partner record, for a writer
 * that reads the member and these values instead (record-text.ts). Only where the rules
 * cannot see each other's work (no rule's target on the way to another's, at the record's
 * level or an item's): then each rule reads the member's own value, as
 * memberToPartnerRecordSharing would have it. Undefined for other mappings.
 */
export function outboundValuesOf(format: Format): OutboundValues | undefined {
  let found = outboundValues.get(format);
  if (found === undefined) {
    const rules = outboundRulesOf(format);
    const single = rules.filter((r) => r.each === undefined);
    const lists = rules.filter((r) => r.each !== undefined);
    const ok = independent(rules.map((r) => r.target)) && lists.every((r) => independent(r.each!.map((i) => i.target)));
    found = ok
      ? {
          targets: single.map((r) => r.target),
          values: (member) => single.map((r) => evaluate(r, member, r.get(member))),
          lists: lists.map((r) => ({ target: r.target, items: r.each!.map((i) => ({ target: i.target, value: (member: Operator, item: unknown) => evaluate(i, member, i.get(item)) })) })),
        }
      : null;
    outboundValues.set(format, found);
  }
  return found ?? undefined;
}

/** One C-TPAT member as a record of `format`. */
export function memberToPartnerRecord(format: Format, member: Operator): Operator {
  const record = copyData(member) as Record<string, unknown>;
  for (const compiled of outboundRulesOf(format)) {
    if (compiled.each) {
      const items = getAt(record, compiled.target);
      if (!Array.isArray(items)) continue;
      for (const item of items as Record<string, unknown>[]) {
        for (const itemRule of compiled.each) apply(itemRule, member, item, getAt(item, itemRule.target));
      }
      continue;
    }
    apply(compiled, member, record, getAt(record, compiled.target));
  }
  return record as unknown as Operator;
}

/**
 * The last record sent for a member that stopped being eligible: consent withdrawn or
 * status revoked (as the mapping says), dated `date`, the address left out where the
 * format allows.
 */
export function withdrawalRecord(format: Format, record: Operator, date: string): Operator {
  const withdrawal = format.mapping.outbound?.withdrawal;
  const out = copyData(record) as Record<string, unknown>;
  if (!withdrawal) return record;
  for (const [path, value] of Object.entries(withdrawal.set)) setAt(out, dotted(path), value === '{date}' ? date : value);
  if (withdrawal.dropAddress) delete out['address'];
  return out as unknown as Operator;
}

export interface MemberBatchOptions {
  /** This gateway's party id: the document's sender. */
  gatewayId: string;
  /** The partner's party id: the document's receiver (default: the format's partner). */
  partnerId?: string | undefined;
  sequence: number;
  kind?: BatchKind;
  batchId?: string | undefined;
  /** RFC 3339; default now. */
  asOf?: string | undefined;
  /** The partner's `mra.outboundBusinessTypes`; undefined: all. */
  businessTypes?: readonly string[] | undefined;
}

/** C-TPAT members as a batch for `format`: eligible ones only, in the partner's flavour. */
export function membersToPartnerBatch(format: Format, members: readonly Operator[], options: MemberBatchOptions): { batch: Batch; skipped: number } {
  const sent = members.filter((m) => eligibleMember(m) && (options.businessTypes === undefined || options.businessTypes.includes(m.authorisation.category ?? '')));
  const asOf = options.asOf ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const batch: Batch = {
    format: format.id,
    envelope: {
      sender: options.gatewayId,
      receiver: options.partnerId ?? format.partner ?? '',
      batchId: options.batchId ?? `${options.gatewayId}-${format.partner ?? format.id}-${asOf.slice(0, 10).replaceAll('-', '')}-${randomUUID().slice(0, 8)}`,
      sequence: options.sequence,
      kind: options.kind ?? 'SNAPSHOT',
      asOf,
      count: sent.length,
    },
    records: sent.map((m) => memberToPartnerRecord(format, m)),
  };
  return { batch, skipped: members.length - sent.length };
}
