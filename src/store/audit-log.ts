/** The audit log: who did what, when and why (staff decisions, releases, imports). Append-only. */
import type { Queryable } from './db.ts';

export interface AuditEntry {
  /** The staff subject (or the command) that acted. */
  actor: string;
  /** What was done: `discrepancy-accepted`, `release-held-batch`, `import-ctpat`, … */
  action: string;
  /** What it was done to: `discrepancy:42`, `exchange:<uuid>`, `ctpat-import:7`. */
  subject: string;
  /** Why and with what effect, as plain JSON. */
  detail: Record<string, unknown>;
}

/** Appends one entry, in the caller's transaction: it commits with the act it records, or not at all. */
export async function recordAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  await tx.query('insert into audit_log (actor, action, subject, detail) values ($1, $2, $3, $4)', [entry.actor, entry.action, entry.subject, JSON.stringify(entry.detail)]);
}

/** One entry as staff read it. */
export interface AuditView extends AuditEntry {
  id: number;
  at: Date;
}

/** Entries newest first, below id `before` (none: from the newest), filtered by exact actor, action or subject. */
export async function listAudit(q: Queryable, page: { before?: number | undefined; limit: number; actor?: string | undefined; action?: string | undefined; subject?: string | undefined }): Promise<AuditView[]> {
  const { rows } = await q.query<AuditView>(
    `select id::int as id, at, actor, action, subject, detail from audit_log
     where ($1::bigint is null or id < $1) and ($2::text is null or actor = $2) and ($3::text is null or action = $3) and ($4::text is null or subject = $4)
     order by id desc limit $5`,
    [page.before ?? null, page.actor ?? null, page.action ?? null, page.subject ?? null, page.limit],
  );
  return rows;
}
