/** The Db port on PGlite: real Postgres compiled to WebAssembly, in this process, its data in a folder. */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db } from './db.ts';

/** Opens (or creates) the database in `dir`; `undefined` keeps it in memory (tests). */
export async function openPglite(dir: string | undefined): Promise<Db> {
  if (dir !== undefined) mkdirSync(dir, { recursive: true });
  const db = dir === undefined ? new PGlite() : new PGlite(dir);
  await db.waitReady;
  return {
    kind: 'pglite',
    query: async (sql, params) => db.query(sql, params as unknown[]),
    transaction: (fn) => db.transaction((tx) => fn({ query: async (sql, params) => tx.query(sql, params as unknown[]) })),
    close: () => db.close(),
  };
}
