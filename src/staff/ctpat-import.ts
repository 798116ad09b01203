/**
 * Importing the C-TPAT member export (FORMATS.md): each file is a full export, so a
 * member absent from it is REMOVED as of the import date; bad lines are reported with
 * their number and the other lines are still imported.
 */
import { recordAudit } from '../store/audit-log.ts';
import { removeMembersNotIn, saveCtpatMember } from '../store/ctpat-members.ts';
import type { Db } from '../store/db.ts';
import type { Format } from '../translate/format.ts';
import { readDocument } from '../translate/read-document.ts';

/** C-TPAT status from the canonical member (the mapping keeps the tier as the level). */
function ctpatStatus(record: { status: { code: string }; authorisation: { level?: string | undefined } }): string {
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

/** Imports a full C-TPAT export as of `today`: members absent from it are REMOVED on that date. */
export async function importCtpatMembers(db: Db, format: Format, body: Buffer, actor: string, today: string): Promise<{ imported: number; removed: number; rejected: { line: string; key: string | null; message: string }[] }> {
  const { batch, rejections } = readDocument(format, body);
  return db.transaction(async (tx) => {
    for (const member of batch.records) {
      await saveCtpatMember(tx, { account: member.key, record: member, status: ctpatStatus(member), consent: member.consent?.given === true, mids: member.mids.map((m) => m.mid) });
    }
    // Absent from a full export: REMOVED as of the import date (rejected lines with a readable key count as present).
    const present = [...batch.records.map((m) => m.key), ...rejections.flatMap((r) => (r.key === null ? [] : [r.key]))];
    const removed = await removeMembersNotIn(tx, present, today);
    await recordAudit(tx, { actor, action: 'import-ctpat', subject: 'ctpat-members', detail: { imported: batch.records.length, removed: removed.length, rejected: rejections.length } });
    return { imported: batch.records.length, removed: removed.length, rejected: rejections.map((r) => ({ line: r.pointer.split(':')[0]!, key: r.key, message: r.message })) };
  });
}
