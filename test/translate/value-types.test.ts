import { describe, expect, it } from 'vitest';
import type { TreeValue } from '../../src/parse/tree.ts';
import { valueTypes } from '../../src/translate/value-types.ts';

// Raw values around every edge the types judge: dates (leap years, years 0 to 99, which
// Date.UTC counts as 1900 to 1999), digits outside ASCII, wrong lengths, every JSON type.
const raws: TreeValue[] = [
  '', 'x', 'true', 'false', 'TRUE', '0', '01', '12', '9007199254740993', '12345678901234567',
  '2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '0000-02-29', '0004-02-29', '0096-02-29', '0099-02-29', '0400-02-29',
  '2026-01-31', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-1-01', '2026-01-1', '2026/01/01', ' 2026-01-01', '2026-01-01 ',
  '２０２６-01-01', '2026-0a-01', '29/02/2024', '31/04/2026', '01/01/2026 12:00:00', '2026-11-27T01:30:00Z', '2026-11-27T01:30:00.123+09:00', '2026-11-27T24:00:00Z',
  0, 1, -1, 1.5, 2 ** 53, true, false, null, [], ['2026-01-01'], {}, { '#text': '2026-01-01' },
];

describe('each value type accepts exactly what it reads', () => {
  for (const [name, type] of Object.entries(valueTypes)) {
    for (const textual of [true, false]) {
      it(`${name}, ${textual ? 'textual' : 'typed'}`, () => {
        for (const raw of raws) {
          const read = type.read(raw, textual);
          expect(type.accept(raw, textual), JSON.stringify(raw)).toBe(read.ok ? read.value : undefined);
        }
      });
    }
  }

  it('dates follow the calendar as before, years 0 to 99 as 1900 to 1999', () => {
    const ok = (text: string) => valueTypes.date.read(text, true).ok;
    expect(['2024-02-29', '2000-02-29', '0004-02-29', '0400-02-29'].map(ok)).toEqual([true, true, true, true]);
    expect(['2023-02-29', '1900-02-29', '0000-02-29', '2026-04-31'].map(ok)).toEqual([false, false, false, false]);
  });
});
