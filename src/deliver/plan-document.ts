/**
 * What the next outbound document to a partner says (FORMATS.md, "Outbound"): pure,
 * given the C-TPAT members as imported and what the partner has been told of each.
 * A SNAPSHOT lists every eligible member; a DELTA only those new or changed for that
 * partner, and, as the last records, the withdrawals of members that stopped being
 * eligible. A member that cannot be written in the partner's format is left out and
 * reported with the field named; it stays unsent, so a later document carries it once
 * its record is mended.
 */
import { hash } from 'node:crypto';
import type { BatchKind, Envelope } from '../canonical/batch.ts';
import type { Operator } from '../canonical/operator.ts';
import type { RecordIssue } from '../errors.ts';
import type { Format } from '../translate/format.ts';
import { eligibleMember, memberToPartnerRecordSharing, withdrawalRecord } from '../translate/outbound.ts';
import { memberTextOf } from '../translate/record-text.ts';
import { asBytes, bodyOf, Cooperation, DocumentWriter } from '../translate/write-document.ts';

/** What a partner was last told of one member. */
export interface SentMember {
  /** `writtenDigest` of the record's text; stored before it, `digestOf` the record (still compared that way). */
  digest: string;
  withdrawn: boolean;
}

/** One member as a document carries it: recognizable (its status VALID), or not, or withdrawn. */
export interface CarriedMember {
  account: string;
  digest: string;
  as: 'valid' | 'not-valid' | 'withdrawn';
}

export interface OutboundPlan {
  /** The document to send: its envelope, and its bytes to sign and send; undefined when a DELTA is left with nothing to carry. */
  document: { envelope: Envelope; body: Buffer; carried: CarriedMember[] } | undefined;
  /** Members of a SNAPSHOT's omission (no longer eligible, or told before and not writable now): withdrawn on the partner's side without a record of their own. */
  omitted: string[];
  /** Members left out because the partner's format cannot carry them, with the field. */
  unwritable: (RecordIssue & { account: string })[];
}

export interface PlanOptions {
  gatewayId: string;
  partnerId: string;
  kind: BatchKind;
  sequence: number;
  batchId: string;
  /** RFC 3339, the document's `asOf`. */
  asOf: string;
  /** The day withdrawals are dated. */
  today: string;
  /** The partner's `mra.outboundBusinessTypes`; undefined: all. */
  businessTypes: readonly string[] | undefined;
}

/**
 * The next document for a partner, or undefined when a DELTA would carry nothing at all.
 * `members` are C-TPAT members by account (removed ones included, with status revoked).
 */
export async function planDocument(format: Format, members: ReadonlyMap<string, Operator>, sent: ReadonlyMap<string, SentMember>, options: PlanOptions): Promise<OutboundPlan | undefined> {
  // A SNAPSHOT of tens of thousands of members is seconds of work in a worker that shares its event loop: it goes in stretches.
  const cooperation = new Cooperation();
  // A member REMOVED (absent from a full export) stops being eligible: FORMATS.md lists it among the withdrawals.
  const eligible = (m: Operator) => eligibleMember(m) && m.status.code !== 'revoked' && (options.businessTypes === undefined || options.businessTypes.includes(m.authorisation.category ?? ''));
  // Each record is written as soon as it is made, and not kept: the document grows as bytes, record by record.
  const writer = new DocumentWriter(format, asBytes());
  let tried = 0;
  const carried: CarriedMember[] = [];
  const unwritable: (RecordIssue & { account: string })[] = [];
  /** Writes a record given its text, or, without a text, reports why `record` cannot be written; returns its digest if written. */
  const carry = (text: string | undefined, record: Operator | undefined, account: string, as: CarriedMember['as']): string | undefined => {
    tried++;
    if (text !== undefined) {
      const digest = writtenPrefix + writer.appendHashed(text);
      carried.push({ account, digest, as });
      return digest;
    }
    for (const p of writer.add(record!) ?? []) unwritable.push({ ...p, account });
    return undefined;
  };
  /** Takes back the record `carry` wrote last: the partner already has it. */
  const uncarry = () => {
    tried--;
    carried.pop();
    writer.takeBack();
  };
  // The member's text written straight from the member where the mapping allows it: no partner record made.
  const memberText = memberTextOf(format);
  const withdrawals: { record: Operator; account: string }[] = [];
  const omitted: string[] = [];
  let i = 0;
  for (const [account, member] of inAccountOrder(members)) {
    // A clock read per member measured a few per cent of the plan: every 64th is often enough for stretches of 10 ms.
    if ((++i & 63) === 0 && cooperation.due) await cooperation.pause();
    const before = sent.get(account);
    const told = before !== undefined && !before.withdrawn;
    if (eligible(member)) {
      const as = member.status.code === 'active' ? 'valid' : 'not-valid';
      // Told before digests were of the written text: compared the way it was taken, so that an upgrade resends no one.
      const toldAsRecord = options.kind === 'DELTA' && told && isRecordDigest(before.digest);
      let text = toldAsRecord ? undefined : memberText?.(member);
      let record: Operator | undefined;
      if (text === undefined) {
        // Read only (written, dropped): it may share what the rules leave alone with the member.
        record = memberToPartnerRecordSharing(format, member);
        if (toldAsRecord && before.digest === digestOf(record)) continue;
        text = writer.textOf(record);
      }
      // Written to be digested where its bytes are; taken back if the partner has it already.
      const digest = carry(text, record, account, as);
      if (options.kind === 'DELTA' && told && digest !== undefined && before.digest === digest) uncarry();
      // A SNAPSHOT that cannot write a member the partner holds takes it out there (a SNAPSHOT replaces all): it
      // is withdrawn, so that the DELTA after its record is mended carries it again, even with the text told before.
      if (options.kind === 'SNAPSHOT' && told && digest === undefined) omitted.push(account);
    } else if (told) {
      if (options.kind === 'SNAPSHOT') {
        omitted.push(account);
        continue;
      }
      const record = withdrawalRecord(format, memberToPartnerRecordSharing(format, member), options.today);
      withdrawals.push({ record, account });
    }
  }
  // Withdrawals go last (FORMATS.md): the last record a partner gets of that member.
  for (const w of withdrawals) {
    if (cooperation.due) await cooperation.pause();
    carry(writer.textOf(w.record), w.record, w.account, 'withdrawn');
  }
  if (options.kind === 'DELTA' && tried === 0) return undefined;
  if (options.kind === 'DELTA' && carried.length === 0) return { document: undefined, omitted, unwritable };

  if (cooperation.due) await cooperation.pause();
  const envelope: Envelope = { sender: options.gatewayId, receiver: options.partnerId, batchId: options.batchId, sequence: options.sequence, kind: options.kind, asOf: options.asOf, count: carried.length };
  return { document: { envelope, body: bodyOf(writer.finish(envelope)), carried }, omitted, unwritable };
}

/** Members by account in the order of their accounts; a map already in that order (read in order) is taken as it is. */
function inAccountOrder(members: ReadonlyMap<string, Operator>): Iterable<[string, Operator]> {
  let previous: string | undefined;
  for (const account of members.keys()) {
    if (previous !== undefined && !(previous < account)) return [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    previous = account;
  }
  return members;
}

/**
 * Marks a digest of a record's written text, the kind taken now: digests stored before it
 * (of the record's sorted-key JSON, `digestOf`) are 43 base64url characters, never a colon.
 */
const writtenPrefix = 'text:';

/**
 * What a partner is told of a member: SHA-256 of the record's text as its format writes
 * it. The text is already made to be sent, and the same record always writes the same
 * text, where a digest of the record's JSON cost as much again as writing it.
 */
export function writtenDigest(text: string): string {
  return writtenPrefix + hash('sha256', text, 'base64url');
}

/** Whether a stored digest is of the older kind, `digestOf` a partner record. */
export const isRecordDigest = (digest: string): boolean => !digest.startsWith(writtenPrefix);

/**
 * The digest partners were told before digests were of the written text: of a record as
 * written for a partner, whatever the order of its keys (records may come back from
 * jsonb). Still compared against what was stored that way.
 */
export function digestOf(record: Operator): string {
  // A one-shot hash: no Hash object per record.
  return hash('sha256', stableJson(record), 'base64url');
}

/** `"name":` for each member name met, since the same few names recur in every record. */
const quotedNames = new Map<string, string>();
const quotedNamesLimit = 10_000;

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(name)}:`;
    if (quotedNames.size < quotedNamesLimit) quotedNames.set(name, quoted);
  }
  return quoted;
}

/** Sorts names in place by UTF-16 code units, as the default sort and `<` compare: insertion, as a record's objects have a dozen keys at most. */
function sortNames(names: string[]): void {
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    let j = i - 1;
    while (j >= 0 && names[j]! > name) {
      names[j + 1] = names[j]!;
      j--;
    }
    names[j + 1] = name;
  }
}

/** Text JSON.stringify writes unchanged between quotes: no quote, backslash, control character or surrogate. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON.stringify escapes
const needsEscapes = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON text with keys sorted at every depth and undefined members left out; written out
 * by hand because this runs once per member of every document. Plain text is quoted here
 * rather than by JSON.stringify, a native call per value that measured a quarter of it.
 */
function stableJson(value: unknown): string {
  if (typeof value === 'string') return needsEscapes.test(value) ? JSON.stringify(value) : `"${value}"`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      // An undefined item stays an empty place, as Array#join leaves it: digests already stored were taken that way.
      if (i > 0) out += ',';
      const item: unknown = value[i];
      if (item !== undefined) out += stableJson(item);
    }
    return `${out}]`;
  }
  const bag = value as Record<string, unknown>;
  const keys = Object.keys(bag);
  sortNames(keys);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = bag[key];
    if (member === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += quotedName(key) + stableJson(member);
  }
  return `${out}}`;
}
