/**
 * What changed since the last C-TPAT import, decided from data alone: the members the
 * store held before (status, consent, digest) and the records of this export. A member
 * whose digest is unchanged is neither read nor rewritten, which keeps a 20,000-member
 * export with a few changes cheap; only members whose digest differs (or that the export
 * no longer lists) have their previous record read, to say which fields changed.
 */
import type { Operator } from '../canonical/operator.ts';
import { canonicalJson, canonicalRecord, ctpatStatus, importedMember, removedRecord, type ImportedMember } from './ctpat-member.ts';
import { isSendableAbroad, notSendableAbroadReasons, type NotSendableReason } from './sendable-abroad.ts';

/** A part of a member that can change, named as in the export (FORMATS.md "C-TPAT member export"). */
export type MemberField = 'status' | 'statusDate' | 'name' | 'address' | 'mids' | 'businessType' | 'consent' | 'certifiedOn' | 'scac' | 'other';

/** Why a member that could be sent abroad no longer can. */
export type NoLongerSendableReason = 'consent-withdrawn' | 'back-to-applicant';

/** What the store holds of a member before an import: enough to tell an unchanged member without its record. */
export interface HeldMember {
  status: string;
  consent: boolean;
  /** Null for a member saved before digests were kept: its record is then compared instead. */
  digest: string | null;
}

/** What an import changed, every list sorted by account number. */
export interface ImportChanges {
  added: string[];
  changed: { account: string; fields: MemberField[] }[];
  /** Members that could be sent to partners before this import and no longer can (partner-independent: consent and status). */
  noLongerSendable: { account: string; reasons: NoLongerSendableReason[] }[];
  /** Absent from this full export, hence REMOVED as of the import date. */
  removed: string[];
  unchanged: number;
}

/** The changes, and the members to write: added, changed, removed, and any whose digest was never stored. */
export interface ImportPlan {
  changes: ImportChanges;
  writes: ImportedMember[];
}

/** Each field and how to read it from a canonical record; `other` catches whatever no entry covers. */
const FIELDS: readonly (readonly [MemberField, (r: Operator) => unknown])[] = [
  ['status', (r) => ctpatStatus(r)],
  ['statusDate', (r) => r.status.effective],
  ['name', (r) => r.name],
  ['address', (r) => r.address],
  ['mids', (r) => canonicalRecord(r).mids],
  ['businessType', (r) => r.authorisation.category],
  ['consent', (r) => r.consent?.given === true],
  ['certifiedOn', (r) => r.authorisation.grantedOn],
  ['scac', (r) => r.carrier?.code],
];

/** The fields in which two records of one member differ, compared as canonical values (key order never counts). */
export function changedFields(previous: Operator, next: Operator): MemberField[] {
  const fields = FIELDS.filter(([, read]) => canonicalJson(read(previous)) !== canonicalJson(read(next))).map(([field]) => field);
  if (fields.length === 0 && canonicalJson(canonicalRecord(previous)) !== canonicalJson(canonicalRecord(next))) fields.push('other');
  return fields;
}

/** Accounts whose previous record `planImport` needs: a digest that differs or was never stored, or absent from the export. */
export function previousRecordsNeeded(held: ReadonlyMap<string, HeldMember>, incoming: readonly ImportedMember[], present: ReadonlySet<string>): string[] {
  const needed = incoming.filter((m) => {
    const before = held.get(m.account);
    return before !== undefined && before.digest !== m.digest;
  });
  return [...needed.map((m) => m.account), ...absentMembers(held, present)];
}

/** Members held and not yet REMOVED that this export does not list (a rejected line with a readable key counts as listed). */
function absentMembers(held: ReadonlyMap<string, HeldMember>, present: ReadonlySet<string>): string[] {
  return [...held].filter(([account, m]) => m.status !== 'REMOVED' && !present.has(account)).map(([account]) => account);
}

/**
 * Compares this export with what the store held. `present` is every account the export
 * names (accepted or rejected with a readable key); `previousRecords` holds at least
 * the accounts `previousRecordsNeeded` named.
 */
export function planImport(input: { held: ReadonlyMap<string, HeldMember>; previousRecords: ReadonlyMap<string, Operator>; incoming: readonly ImportedMember[]; present: ReadonlySet<string>; date: string }): ImportPlan {
  const { held, previousRecords, incoming, present, date } = input;
  const previous = (account: string): Operator => {
    const record = previousRecords.get(account);
    if (record === undefined) throw new Error(`the previous record of C-TPAT member ${account} was not loaded`);
    return record;
  };
  const changes: ImportChanges = { added: [], changed: [], noLongerSendable: [], removed: [], unchanged: 0 };
  const writes: ImportedMember[] = [];

  for (const member of incoming) {
    const before = held.get(member.account);
    if (before === undefined) {
      changes.added.push(member.account);
      writes.push(member);
      continue;
    }
    if (before.digest === member.digest) {
      changes.unchanged += 1;
      continue;
    }
    const fields = changedFields(previous(member.account), member.record);
    writes.push(member); // a member without a stored digest is written once even when unchanged, to store it
    if (fields.length === 0) {
      changes.unchanged += 1;
      continue;
    }
    changes.changed.push({ account: member.account, fields });
    if (isSendableAbroad(before) && !isSendableAbroad(member)) {
      changes.noLongerSendable.push({ account: member.account, reasons: notSendableAbroadReasons(member).map(reasonOf) });
    }
  }
  for (const account of absentMembers(held, present)) {
    changes.removed.push(account);
    writes.push(importedMember(removedRecord(previous(account), date)));
  }

  const byAccount = (a: { account: string }, b: { account: string }) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0);
  changes.added.sort();
  changes.changed.sort(byAccount);
  changes.noLongerSendable.sort(byAccount);
  changes.removed.sort();
  return { changes, writes };
}

function reasonOf(reason: NotSendableReason): NoLongerSendableReason {
  return reason === 'no-consent' ? 'consent-withdrawn' : 'back-to-applicant';
}
