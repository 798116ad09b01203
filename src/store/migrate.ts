/**
 * Versioned migrations: `migrations/NNNN_name.sql`, applied in order, each in its own
 * transaction, each once. An advisory lock lets several processes start at once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

const dir = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK = 7_248_113; // any constant shared by every gateway process

/** Applies the migrations this database has not seen; returns the versions applied. */
export async function migrate(db: Db): Promise<number[]> {
  await db.query('create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())');
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const applied: number[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    const done = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [LOCK]);
      const seen = await tx.query('select 1 from schema_migrations where version = $1', [version]);
      if (seen.rows.length > 0) return false;
      for (const statement of splitStatements(readFileSync(`${dir}${file}`, 'utf8'))) await tx.query(statement);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [version, file]);
      return true;
    });
    if (done) applied.push(version);
  }
  return applied;
}

/** One statement at a time: both drivers take a single statement with parameters. A `$$` body (a `do` block) is one statement, whatever semicolons it holds. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  // Even parts are outside a $$ quote, odd parts inside it.
  sql
    .replace(/--[^\n]*/g, '')
    .split('$$')
    .forEach((part, i) => {
      if (i % 2 === 1) {
        current += `$$${part}$$`;
        return;
      }
      const pieces = part.split(/;\s*(?:\n|$)/);
      current += pieces[0];
      for (const piece of pieces.slice(1)) {
        statements.push(current);
        current = piece;
      }
    });
  statements.push(current);
  return statements.map((s) => s.trim()).filter((s) => s !== '');
}
