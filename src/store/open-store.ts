/** Opens the store of record the settings name, migrated: PostgreSQL, or PGlite in DATA_DIR. */
import { join } from 'node:path';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite-db.ts';
import { openPostgres } from './postgres-db.ts';

export async function openStore(settings: { DATABASE_URL?: string | undefined; DATA_DIR: string }): Promise<Db> {
  const db = settings.DATABASE_URL ? openPostgres(settings.DATABASE_URL) : await openPglite(join(settings.DATA_DIR, 'pg'));
  await migrate(db);
  return db;
}
