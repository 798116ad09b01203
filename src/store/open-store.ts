/**
 * Opens the store of record the settings name, migrated: the external PostgreSQL at
 * DATABASE_URL, or else a private PostgreSQL server with its data in DATA_DIR/pg. One
 * engine either way, so one SQL dialect and one code path.
 */
import type { Db } from './db.ts';
import { startEmbeddedPostgres, type Report } from './embedded-postgres.ts';
import { migrate } from './migrate.ts';
import { openPostgres } from './postgres-db.ts';

export async function openStore(settings: { DATABASE_URL?: string | undefined; DATA_DIR: string }, log: (message: string) => void = () => {}, report: Report = () => {}): Promise<Db> {
  let db: Db;
  if (settings.DATABASE_URL) {
    db = openPostgres({ connectionString: settings.DATABASE_URL }, 'postgres');
  } else {
    const server = await startEmbeddedPostgres(settings.DATA_DIR, log, report);
    db = openPostgres(server.connection, 'embedded-postgres', () => server.stop());
  }
  try {
    await migrate(db);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
