/**
 * The `retention` job (RETENTION_DAYS): the raw documents of exchanges applied more than
 * that many days ago are removed, a thousand at a time, each chunk its own short
 * transaction so that intake and the apply jobs are never held up behind one giant
 * statement. Digest, signature header and receipt stay (the receipt still verifies, and
 * the digest still names what was received). A run that removed anything is audited, in
 * the transaction of its last chunk. Safe to run twice or on several workers at once: a
 * removed document is not found again, and rows another run holds are skipped.
 *
 * Every run, RETENTION_DAYS set or not, first removes the pieces of bodies that never
 * became an exchange, written more than a day before: what a crash in the middle of an
 * upload left (intake/stage-body.ts).
 */
import type { Clock } from '../clock.ts';
import { recordAudit } from '../store/audit-log.ts';
import type { Db } from '../store/db.ts';
import { removeDocumentsChunk, removeOrphanPieces } from '../store/retention.ts';

export interface RetentionDeps {
  db: Db;
  /** The gateway's clock: "now" the cut is counted back from. */
  clock: Clock;
  /** RETENTION_DAYS; undefined keeps every document for ever. */
  days: number | undefined;
  /** Documents removed per transaction (default 1,000). */
  chunkSize?: number;
}

export type RetentionOutcome = { ran: true; removed: number; olderThan: string } | { ran: false; reason: 'keep-forever' };

const DAY_MS = 86_400_000;

/** Removes the documents of exchanges applied before now − RETENTION_DAYS. */
export async function runRetention(deps: RetentionDeps): Promise<RetentionOutcome> {
  await removeOrphanPieces(deps.db);
  if (deps.days === undefined) return { ran: false, reason: 'keep-forever' };
  const now = deps.clock();
  const cut = new Date(now - deps.days * DAY_MS);
  const olderThan = cut.toISOString();
  const chunkSize = deps.chunkSize ?? 1_000;
  let removed = 0;
  for (;;) {
    const last = await deps.db.transaction(async (tx) => {
      const n = await removeDocumentsChunk(tx, cut, new Date(now), chunkSize);
      removed += n;
      const done = n < chunkSize;
      if (done && removed > 0) await recordAudit(tx, { actor: 'mragw-retention', action: 'retention', subject: 'exchanges', detail: { removed, olderThan } });
      return done;
    });
    if (last) return { ran: true, removed, olderThan };
  }
}
