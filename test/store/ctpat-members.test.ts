import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { startCtpatImport } from '../../src/store/ctpat-imports.ts';
import { allCtpatMembers, saveCtpatMembers } from '../../src/store/ctpat-members.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';

describe('C-TPAT members in the store', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshPostgres();
  });
  afterEach(async () => {
    await t.drop();
  });

  it('are read for planning in code-unit order of account, as documents list them, whatever order they were saved in', async () => {
    const accounts = ['CT-b', 'CT-0000002', 'CT-B', 'CT-a', 'CT-0000001'];
    const member = (account: string) => ({ account, record: { key: account } as unknown as Operator, status: 'CERTIFIED', consent: true, mids: [], digest: `d-${account}` });
    await t.db.transaction(async (tx) => saveCtpatMembers(tx, accounts.map(member), await startCtpatImport(tx, { importDate: '2026-11-30', actor: 'test' })));
    expect([...(await allCtpatMembers(t.db)).keys()]).toEqual([...accounts].sort());
  });
});
