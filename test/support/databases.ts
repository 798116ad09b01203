/**
 * Real databases for tests: a fresh PostgreSQL database on the server at
 * TEST_DATABASE_URL (default: the local one CI starts), dropped afterwards. The embedded
 * server is the same engine; tests that start a whole gateway exercise it too.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres-db.ts';

export const adminUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Db;
  /** Connection string (a gateway process under test connects with it). */
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated PostgreSQL database. */
export async function freshPostgres(): Promise<TestDatabase> {
  const name = `mragw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = openPostgres({ connectionString: url.toString() }, 'postgres');
  await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
