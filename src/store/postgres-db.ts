/** The Db port on PostgreSQL through a `pg` pool. */
import pg from 'pg';
import { StoreUnavailableError, type Db, type Queryable } from './db.ts';

// bigint (int8) as a JS number: sequences stay below 2^53 (PROTOCOL §3).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', '57P01', '57P03', '08006', '08001']);

function unavailable(error: unknown): never {
  const code = (error as { code?: string }).code;
  if (code !== undefined && CONNECTION_ERRORS.has(code)) throw new StoreUnavailableError(`the store is unreachable (${code})`, { cause: error });
  if (error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message)) throw new StoreUnavailableError('the store is unreachable', { cause: error });
  throw error;
}

/** Opens a pool on `connection`; `afterClose` runs once the pool has ended (the embedded server's stop). */
export function openPostgres(connection: pg.PoolConfig, kind: Db['kind'], afterClose: () => Promise<void> = async () => {}): Db {
  const pool = new pg.Pool({ ...connection, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return {
    kind,
    async query(sql, params) {
      // Connecting apart from querying: a connection that cannot be had is "unavailable" whatever its error code.
      const client = await pool.connect().catch((error: unknown) => {
        throw new StoreUnavailableError('the store is unreachable', { cause: error });
      });
      try {
        return await client.query(sql, params as unknown[]);
      } catch (error) {
        return unavailable(error);
      } finally {
        client.release();
      }
    },
    async transaction(fn) {
      const client = await pool.connect().catch((error: unknown) => {
        throw new StoreUnavailableError('the store is unreachable', { cause: error });
      });
      try {
        await client.query('BEGIN');
        const tx: Queryable = { query: (sql, params) => client.query(sql, params as unknown[]) };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        return unavailable(error);
      } finally {
        client.release();
      }
    },
    close: async () => {
      await pool.end();
      await afterClose();
    },
  };
}
