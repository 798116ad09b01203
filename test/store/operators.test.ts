import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HeldOperator } from '../../src/reconcile/model.ts';
import { loadHeld, saveOperators } from '../../src/store/operators.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { record } from '../status/records.ts';

/** Names whose JSON text has escapes, non-Latin-1 and astral characters: what a byte-level mistake would garble. */
const names = ['Müller "Logistik" GmbH', 'back\\slash\tand tab', '株式会社 東京ロジ', 'Émoji 🚚 Freight', 'line\nbreak'];

describe('operators in the store', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshPostgres();
  });
  afterEach(async () => {
    await t.drop();
  });

  // Records, benefits and links go to the server as binary jsonb arrays (operators.ts, jsonArray).
  it.each([
    ['serialized by the store', undefined],
    ['given as the bytes they were kept as', (r: HeldOperator['record']) => Buffer.from(JSON.stringify(r))],
  ])('saves records and reads them back unchanged, their text %s', async (_, recordJson) => {
    const held = names.map((name, i) => record({ key: `DEAEOF${String(i).padStart(10, '0')}`, name, mids: [`DEMULLER${i}BER`] }).held);
    await t.db.transaction((tx) => saveOperators(tx, held, new Map(), () => false, recordJson));
    const loaded = await loadHeld(t.db, 'EU');
    expect([...loaded.values()].sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual(held);
  });
});
