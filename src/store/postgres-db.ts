/** The Db port on PostgreSQL through a `pg` pool. */
import pg from 'pg';
import { StoreUnavailableError, type Db, type Queryable } from './db.ts';

// bigint (int8) as a JS number: sequences stay below 2^53 (PROTOCOL §3).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', '57P01', '57P03', '08006', '08001']);

/** Whether `error` means the connection to the server is gone (not a fault of the statement). */
function connectionLost(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code !== undefined && CONNECTION_ERRORS.has(code)) return true;
  return error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
}

function unavailable(error: unknown): never {
  if (!connectionLost(error)) throw error;
  const code = (error as { code?: string }).code;
  throw new StoreUnavailableError(code === undefined ? 'the store is unreachable' : `the store is unreachable (${code})`, { cause: error });
}

/** A pool client for one query or transaction. */
async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(error: unknown): void }> {
  const client = await pool.connect().catch((error: unknown) => {
    throw new StoreUnavailableError('the store is unreachable', { cause: error });
  });
  // While checked out the pool does not listen to the client: a server that goes away then
  // would raise an 'error' nobody handles, which ends the process. The query's own failure reports it.
  const ignore = () => {};
  client.on('error', ignore);
  return {
    client,
    release(error) {
      client.off('error', ignore);
      // A client whose connection is lost is destroyed, not handed to the next caller.
      client.release(connectionLost(error) ? (error as Error) : undefined);
    },
  };
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
      const { client, release } = await checkOut(pool);
      let failure: unknown;
      try {
        return await client.query(sql, params as unknown[]);
      } catch (error) {
        failure = error;
        return unavailable(error);
      } finally {
        release(failure);
      }
    },
    async transaction(fn) {
      const { client, release } = await checkOut(pool);
      let failure: unknown;
      try {
        await client.query('BEGIN');
        const tx: Queryable = { query: (sql, params) => client.query(sql, params as unknown[]) };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        failure = error;
        await client.query('ROLLBACK').catch(() => {});
        return unavailable(error);
      } finally {
        release(failure);
      }
    },
    async listen(channel, handlers) {
      // A client of its own, not the pool's: LISTEN belongs to a session that stays open.
      const client = new pg.Client(connection);
      let ended = false;
      const lost = () => {
        if (ended) return;
        ended = true;
        handlers.lost();
      };
      client.on('error', lost);
      client.on('end', lost);
      client.on('notification', (message) => {
        if (message.channel === channel) handlers.notified();
      });
      try {
        await client.connect();
        await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      } catch (error) {
        ended = true;
        await client.end().catch(() => {});
        return unavailable(error);
      }
      return async () => {
        ended = true;
        await client.end().catch(() => {});
      };
    },
    close: async () => {
      await pool.end();
      await afterClose();
    },
  };
}
