/** The log of C-TPAT imports: when, who, the counts and what changed, one row per import. */
import type { Queryable } from './db.ts';

/** The counts of one import; `summary` holds its lists (accounts of each change, rejected lines). */
export interface CtpatImportCounts {
  imported: number;
  rejected: number;
  added: number;
  changed: number;
  noLongerSendable: number;
  removed: number;
  unchanged: number;
}

/** One import as listed: its counts without the lists, which can name 20,000 accounts. */
export interface CtpatImportRow extends CtpatImportCounts {
  id: number;
  at: string;
  importDate: string;
  actor: string;
}

const IMPORT_LOCK = 7_248_114; // one C-TPAT import at a time, across every gateway process

/** Waits for any other C-TPAT import to commit: each compares with what the one before it left, so two must not interleave. */
export async function lockCtpatImports(tx: Queryable): Promise<void> {
  await tx.query('select pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
}

/** Opens the row of an import about to be saved; its id marks the members it changes. */
export async function startCtpatImport(tx: Queryable, entry: { importDate: string; actor: string }): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `insert into ctpat_imports (import_date, actor, imported, rejected, added, changed, no_longer_sendable, removed, unchanged, summary)
     values ($1, $2, 0, 0, 0, 0, 0, 0, 0, '{}') returning id`,
    [entry.importDate, entry.actor],
  );
  return Number(rows[0]!.id);
}

/** Records what the import found, in the same transaction as the members it wrote. */
export async function finishCtpatImport(tx: Queryable, id: number, counts: CtpatImportCounts, summary: Record<string, unknown>): Promise<void> {
  await tx.query(
    'update ctpat_imports set imported = $2, rejected = $3, added = $4, changed = $5, no_longer_sendable = $6, removed = $7, unchanged = $8, summary = $9 where id = $1',
    [id, counts.imported, counts.rejected, counts.added, counts.changed, counts.noLongerSendable, counts.removed, counts.unchanged, JSON.stringify(summary)],
  );
}

/** The most recent imports, newest first, with their counts. */
export async function recentCtpatImports(q: Queryable, limit: number): Promise<CtpatImportRow[]> {
  const { rows } = await q.query<CtpatImportRow & { id: string }>(
    `select id, at::text as at, import_date::text as "importDate", actor, imported, rejected, added, changed, no_longer_sendable as "noLongerSendable", removed, unchanged
     from ctpat_imports order by id desc limit $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
