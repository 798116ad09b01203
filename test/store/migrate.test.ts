import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/store/migrate.ts';

describe('migration files', () => {
  it('are cut into statements at a semicolon that ends a line, comments dropped, a $$ body kept whole', () => {
    const sql = [
      '-- why; with a semicolon',
      'create table t (a int);',
      'alter table t add column b int; -- and why',
      'do $$',
      'begin',
      '  alter table t alter column b set not null;',
      'exception when others then',
      '  null;',
      'end $$;',
      "insert into t values (1, 2)",
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      'create table t (a int)',
      'alter table t add column b int',
      'do $$\nbegin\n  alter table t alter column b set not null;\nexception when others then\n  null;\nend $$',
      'insert into t values (1, 2)',
    ]);
  });
});
