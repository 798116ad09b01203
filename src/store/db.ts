/**
 * The one port between the store and its database: PostgreSQL through `pg` when
 * DATABASE_URL is set, PGlite (real Postgres, in-process) in DATA_DIR otherwise. Both run
 * the same SQL. In the contract: parameterised queries ($1…), transactions with
 * Postgres semantics (row locks, SKIP LOCKED, advisory locks). Not in it: connection
 * pools (PGlite has one connection, so its transactions run one at a time), LISTEN.
 */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** `postgres` or `pglite`, for logs and readiness. */
  readonly kind: 'postgres' | 'pglite';
}

/** The store could not be reached: the HTTP edge answers 503 `unavailable`. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
