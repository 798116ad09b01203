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
