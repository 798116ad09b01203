/**
 * C-TPAT members in a partner's format (FORMATS.md, "Outbound"). A member read from the
 * C-TPAT export becomes a record in the partner's canonical flavour through the
 * mapping's `outbound` rules; which members go at all is the C-TPAT rule below plus the
 * partner's business-type list, which the caller passes from the registry.
 */
import { randomUUID } from 'node:crypto';
import type { Batch, BatchKind } from '../canonical/batch.ts';
import type { Operator } from '../canonical/operator.ts';
import { deleteAt, dotted, getAt, setAt } from './canonical-path.ts';
import { compilePattern } from './compile.ts';
import type { Format } from './format.ts';
import type { OutboundRule } from './mapping-schema.ts';
import { holds } from './record-rules.ts';
import { textTransforms } from './text-transforms.ts';

/** Only members with consent and a status other than applicant are ever sent to a partner. */
export function eligibleMember(member: Operator): boolean {
  return member.consent?.given === true && member.status.code !== 'applicant';
}

function evaluate(rule: OutboundRule, member: Operator, current: unknown, where: string): unknown {
  if (rule.when && !holds(rule.when, member)) return undefined;
  if (rule.const !== undefined) return rule.const === null ? undefined : rule.const;
  if (rule.template !== undefined) return rule.template.replace(/\{([a-zA-Z.]+)\}/g, (_, path: string) => String(getAt(member, dotted(path)) ?? ''));
  let value = rule.from !== undefined ? getAt(member, dotted(rule.from)) : current;
  if (value === undefined || value === null) return rule.default;
  if (rule.transform) value = textTransforms[rule.transform](String(value));
  if (rule.codes) value = rule.codes[String(value)] ?? rule.default;
  if (rule.pattern !== undefined && !compilePattern(rule.pattern, where).test(String(value))) return undefined;
  return value;
}

/** One C-TPAT member as a record of `format`. */
export function memberToPartnerRecord(format: Format, member: Operator): Operator {
  const record = structuredClone(member) as unknown as Record<string, unknown>;
  for (const [path, rule] of Object.entries(format.mapping.outbound?.set ?? {})) {
    const target = dotted(path);
    if (rule.each) {
      const items = getAt(record, target);
      if (!Array.isArray(items)) continue;
      for (const item of items as Record<string, unknown>[]) {
        for (const [sub, itemRule] of Object.entries(rule.each)) {
          const v = evaluate(itemRule as OutboundRule, member, getAt(item, dotted(sub)), `${format.id} outbound ${path}.${sub}`);
          if (v === undefined) deleteAt(item, dotted(sub));
          else setAt(item, dotted(sub), v);
        }
      }
      continue;
    }
    const v = evaluate(rule, member, getAt(record, target), `${format.id} outbound ${path}`);
    if (v === undefined) deleteAt(record, target);
    else setAt(record, target, v);
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
  const out = structuredClone(record) as unknown as Record<string, unknown>;
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
