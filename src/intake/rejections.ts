/**
 * What an exchange keeps of its rejected records for `GET /v1/exchanges/{id}` (PROTOCOL
 * §5, issue 11): a bounded list, and the true number of faults beside it.
 */
import type { RecordIssue } from '../errors.ts';

/**
 * Faults stored per exchange, the first in document order. One 890 KB record with
 * 100,000 unknown elements made a 16.9 MB answer; 1,000 faults are about 200 KB stored,
 * ten pages of the read-back's default 100, and enough to show a sender what is wrong
 * with a document (its first 50 rejected records at MAX_FAULTS_PER_RECORD each, and
 * more when each has fewer). The rest are counted (`rejectionCount`), not kept.
 */
export const MAX_STORED_REJECTIONS = 1000;

/** A rejection as the read-back gives it (PROTOCOL §5). */
export interface StoredRejection {
  index: number;
  key: string | null;
  pointer: string;
  code: string;
  message: string;
}

/** The rejections to store: at most MAX_STORED_REJECTIONS, each as the read-back gives it. */
export function rejectionsToStore(issues: readonly RecordIssue[]): StoredRejection[] {
  return issues.slice(0, MAX_STORED_REJECTIONS).map(({ index, key, pointer, code, message }) => ({ index, key, pointer, code, message }));
}
