/**
 * Paging for every staff list: `limit` (1–1000, default 50) and an opaque `cursor` from
 * the previous page's `next` (null on the last page). A cursor is the base64url JSON of
 * the last item's sort key, checked against the list's own schema when it comes back.
 * An exchange's rejections are paged the same way (`rejectionsPage`).
 */
import { z } from 'zod';
import { GatewayError, issuesOf } from '../errors.ts';

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50).describe('Items per page (1–1000).'),
  cursor: z.string().max(512).optional().describe("The previous page's `next`."),
});

/** The cursor after `last`, when the page was full; null when there is no further page. */
export function nextCursor<T>(page: readonly T[], limit: number, keyOf: (last: T) => unknown): string | null {
  const last = page.at(-1);
  if (page.length < limit || last === undefined) return null;
  return cursorOf(keyOf(last));
}

function cursorOf(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries, or a 400 when it is not one this list made. */
export function readCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new GatewayError('bad-request', 'cursor is not a cursor this list gave');
  }
  const parsed = schema.safeParse(decoded);
  if (!parsed.success) throw new GatewayError('bad-request', 'cursor is not a cursor this list gave', { issues: issuesOf(parsed.error) });
  return parsed.data;
}

/** The query, parsed by `schema`, or a 400 naming each bad parameter. */
export function readQuery<T>(query: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new GatewayError('bad-request', 'a query parameter is invalid', { issues: issuesOf(parsed.error) });
  return parsed.data;
}

/**
 * Paging of an exchange's rejections in `GET /v1/exchanges/{id}` (issue 11): the same
 * limit and opaque cursor as the lists, named for the rejections because the answer is
 * the exchange. 100 by default, as a 422 gives at most 100 `errors` (PROTOCOL §8).
 */
export const RejectionsQuery = z.object({
  rejectionsLimit: z.coerce.number().int().min(1).max(1000).default(100).describe('Rejections per page (1–1000, default 100).'),
  rejectionsCursor: z.string().max(512).optional().describe("The previous page's `rejectionsNext`."),
});

/** A rejections cursor carries the position of the page's first item in the stored list. */
const RejectionsCursor = z.number().int().min(0);

/** One page of an exchange's rejections, and what the answer says of them all. */
export interface RejectionsPage {
  rejections: unknown[];
  /** Faults in all, those not stored included. */
  rejectionCount: number;
  /** Whether the gateway stored fewer faults than there are: the pages end before `rejectionCount`. */
  truncated: boolean;
  /** The cursor of the next page; null on the last. */
  rejectionsNext: string | null;
}

/** The page of `stored` the query asks for (a 400 for a bad limit or cursor). */
export function rejectionsPage(query: unknown, stored: readonly unknown[], rejectionCount: number): RejectionsPage {
  const { rejectionsLimit, rejectionsCursor } = readQuery(query, RejectionsQuery);
  const from = readCursor(rejectionsCursor, RejectionsCursor) ?? 0;
  const rejections = stored.slice(from, from + rejectionsLimit);
  const after = from + rejections.length;
  return { rejections, rejectionCount, truncated: rejectionCount > stored.length, rejectionsNext: after < stored.length ? cursorOf(after) : null };
}
