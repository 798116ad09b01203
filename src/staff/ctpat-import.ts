/**
 * Importing the C-TPAT member export (FORMATS.md): each file is a full export, so a
 * member absent from it is REMOVED as of the import date; bad lines are reported with
 * their number and the other lines are still imported.
 */
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

export async function importCtpatMembers(db: Db, format: Format, body: Buffer, actor: string): Promise<{ imported: number; removed: number; rejected: { line: string; key: string | null; message: string }[] }> {
  const { batch, rejections } = readDocument(format, body);
  const today = new Date().toISOString().slice(0, 10);
  return db.transaction(async (tx) => {
    for (const member of batch.records) {
      const mids = member.mids.map((m) => m.mid);
      await tx.query(
        `insert into ctpat_members (account, record, status, consent, mids, imported_at) values ($1, $2, $3, $4, $5, now())
         on conflict (account) do update set record = excluded.record, status = excluded.status, consent = excluded.consent, mids = excluded.mids, imported_at = now()`,
        [member.key, JSON.stringify(member), ctpatStatus(member), member.consent?.given === true, mids],
      );
      await tx.query('delete from ctpat_mids where account = $1', [member.key]);
      for (const mid of mids) await tx.query('insert into ctpat_mids (mid, account) values ($1, $2) on conflict do nothing', [mid, member.key]);
    }
    // Absent from a full export: REMOVED as of the import date (rejected lines with a readable key count as present).
    const present = [...batch.records.map((m) => m.key), ...rejections.flatMap((r) => (r.key === null ? [] : [r.key]))];
    const { rows } = await tx.query<{ account: string }>(
      `update ctpat_members set status = 'REMOVED', record = jsonb_set(jsonb_set(record, '{status,code}', '"revoked"'), '{status,effective}', to_jsonb($2::text))
       where status <> 'REMOVED' and not (account = any($1::text[])) returning account`,
      [present, today],
    );
    await tx.query('insert into audit_log (actor, action, subject, detail) values ($1, $2, $3, $4)', [actor, 'import-ctpat', 'ctpat-members', JSON.stringify({ imported: batch.records.length, removed: rows.length, rejected: rejections.length })]);
    return { imported: batch.records.length, removed: rows.length, rejected: rejections.map((r) => ({ line: r.pointer.split(':')[0]!, key: r.key, message: r.message })) };
  });
}
