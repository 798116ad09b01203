/**
 * Importing the C-TPAT member export (FORMATS.md): each file is a full export, so a
 * member absent from it is REMOVED as of the import date; bad lines are reported with
 * their number and the other lines are still imported. Each import is compared with
 * what the one before it left (ctpat-changes.ts), only changed members are written, and
 * the import is logged with what changed so that the next one and staff can see it.
 */
import { recordAudit } from '../store/audit-log.ts';
import { finishCtpatImport, lockCtpatImports, startCtpatImport } from '../store/ctpat-imports.ts';
import { ctpatRecords, heldCtpatMembers, saveCtpatMembers } from '../store/ctpat-members.ts';
import type { Db } from '../store/db.ts';
import type { RecordIssueCode } from '../errors.ts';
import type { Format } from '../translate/format.ts';
import { readDocument } from '../translate/read-document.ts';
import { planImport, previousRecordsNeeded, type ImportChanges, type MemberField, type NoLongerSendableReason } from './ctpat-changes.ts';
import { importedMember } from './ctpat-member.ts';

/** Lists in the answer stop here (the counts are always whole); the import's row keeps them all. */
export const LISTED = 100;

/** One fault of a rejected line; a line with several faults has several entries. */
export interface RejectedLine {
  /** The NDJSON line, numbered from 1. */
  line: number;
  key: string | null;
  field: string;
  code: RecordIssueCode;
  message: string;
}

/** A count and the first `LISTED` entries, by account number. */
export interface Listed<T> {
  count: number;
  items: T[];
}

/** What an import answers (the staff API's JSON, printed by `mragw staff import-ctpat`). */
export interface CtpatImportAnswer {
  importId: number;
  importDate: string;
  /** Lines imported (accepted). */
  imported: number;
  /** How many lines were rejected. */
  rejectedLines: number;
  /** The faults of rejected lines, first `LISTED`. */
  rejected: RejectedLine[];
  added: Listed<string>;
  changed: Listed<{ account: string; fields: MemberField[] }>;
  noLongerSendable: Listed<{ account: string; reasons: NoLongerSendableReason[] }>;
  removed: Listed<string>;
  unchanged: number;
}

/** Imports a full C-TPAT export as of `today` on behalf of `actor`, and says what changed since the last one. */
export async function importCtpatMembers(db: Db, format: Format, body: Buffer, actor: string, today: string): Promise<CtpatImportAnswer> {
  const { batch, rejections, rejectedCount } = readDocument(format, body);
  const incoming = batch.records.map(importedMember);
  // Rejected lines with a readable key count as present: a bad line must not remove its member.
  const present = new Set([...incoming.map((m) => m.account), ...rejections.flatMap((r) => (r.key === null ? [] : [r.key]))]);
  const rejected = rejections.map((r): RejectedLine => ({ line: Number(r.pointer.split(':')[0]), key: r.key, field: r.field, code: r.code, message: r.message }));

  return db.transaction(async (tx) => {
    await lockCtpatImports(tx);
    const held = await heldCtpatMembers(tx);
    const previousRecords = await ctpatRecords(tx, previousRecordsNeeded(held, incoming, present));
    const { changes, writes } = planImport({ held, previousRecords, incoming, present, date: today });
    const importId = await startCtpatImport(tx, { importDate: today, actor });
    await saveCtpatMembers(tx, writes, importId);
    const counts = countsOf(changes, incoming.length, rejectedCount);
    await finishCtpatImport(tx, importId, counts, { ...changes, rejected });
    await recordAudit(tx, { actor, action: 'import-ctpat', subject: `ctpat-import:${importId}`, detail: { ...counts } });
    return {
      importId,
      importDate: today,
      imported: incoming.length,
      rejectedLines: rejectedCount,
      rejected: rejected.slice(0, LISTED),
      added: listed(changes.added),
      changed: listed(changes.changed),
      noLongerSendable: listed(changes.noLongerSendable),
      removed: listed(changes.removed),
      unchanged: changes.unchanged,
    };
  });
}

function countsOf(changes: ImportChanges, imported: number, rejected: number) {
  return { imported, rejected, added: changes.added.length, changed: changes.changed.length, noLongerSendable: changes.noLongerSendable.length, removed: changes.removed.length, unchanged: changes.unchanged };
}

function listed<T>(items: readonly T[]): Listed<T> {
  return { count: items.length, items: items.slice(0, LISTED) };
}
