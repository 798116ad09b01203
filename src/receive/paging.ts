/**
 * Paging for every staff list: `limit` (1–1000, default 50) and an opaque `cursor` from
 * the previous page's `next` (null on the last page). A cursor is the base64url JSON of
 * the last item's sort key, checked against the list's own schema when it comes back.
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
  return Buffer.from(JSON.stringify(keyOf(last))).toString('base64url');
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
