/**
 * A C-TPAT member as the import keeps it: its C-TPAT status, consent and MIDs beside the
 * canonical record, and a digest of that record. The digest is taken over a canonical
 * JSON text (keys sorted, MIDs in order) so that two imports of the same member compare
 * equal whatever order the export or PostgreSQL's jsonb put the keys in.
 */
import { createHash } from 'node:crypto';
import type { Operator } from '../canonical/operator.ts';

/** One member ready to be compared and saved. */
export interface ImportedMember {
  account: string;
  record: Operator;
  /** C-TPAT status: APPLICANT, CERTIFIED, CERTIFIED_VALIDATED, TIER3, SUSPENDED, REMOVED. */
  status: string;
  consent: boolean;
  mids: string[];
  /** `memberDigest(record)`. */
  digest: string;
}

/** C-TPAT status from the canonical member (the mapping keeps the tier as the level). */
export function ctpatStatus(record: Pick<Operator, 'status' | 'authorisation'>): string {
  switch (record.status.code) {
    case 'applicant':
      return 'APPLICANT';
    case 'suspended':
      return 'SUSPENDED';
    case 'revoked':
      return 'REMOVED';
    default:
      return record.authorisation.level ?? 'CERTIFIED';
  }
}

/** JSON text with object keys sorted at every depth and undefined members left out: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The record with its MIDs in a fixed order: the export's order of MIDs carries no meaning. */
export function canonicalRecord(record: Operator): Operator {
  return { ...record, mids: [...record.mids].sort((a, b) => (a.mid < b.mid ? -1 : a.mid > b.mid ? 1 : 0)) };
}

/** SHA-256 of the record's canonical JSON, hex. */
export function memberDigest(record: Operator): string {
  return createHash('sha256').update(canonicalJson(canonicalRecord(record))).digest('hex');
}

/** The member as the import compares and saves it. */
export function importedMember(record: Operator): ImportedMember {
  return { account: record.key, record, status: ctpatStatus(record), consent: record.consent?.given === true, mids: record.mids.map((m) => m.mid), digest: memberDigest(record) };
}

/** The record a member absent from a full export gets: REMOVED as of the import date, the rest as it was. */
export function removedRecord(previous: Operator, date: string): Operator {
  return { ...previous, status: { ...previous.status, code: 'revoked', effective: date } };
}
