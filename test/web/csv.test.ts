/** The console's CSV downloads: RFC 4180 quoting, and no cell a spreadsheet would run as a formula. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain browser module, type-checked from its JSDoc by web/tsconfig.json, not by this project
import * as csvModule from '../../web/shared/csv.js';

const { csvField, toCsv } = csvModule as { csvField(value: unknown): string; toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string };

describe('csvField', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('defuses a formula: %j', (input, expected) => {
    expect(csvField(input)).toBe(expected);
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['', ''],
    ['a=b', 'a=b'],
  ])('quotes per RFC 4180: %j', (input, expected) => {
    expect(csvField(input)).toBe(expected);
  });

  it('writes numbers, booleans, null and objects', () => {
    expect(csvField(42)).toBe('42');
    expect(csvField(-5)).toBe("'-5");
    expect(csvField(true)).toBe('true');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField({ a: 1 })).toBe('"{""a"":1}"');
  });
});

describe('toCsv', () => {
  it('writes a header and rows, each line ended by CRLF', () => {
    expect(toCsv(['id', 'name'], [[1, 'Elbe, GmbH'], [2, '=cmd']])).toBe('id,name\r\n1,"Elbe, GmbH"\r\n2,\'=cmd\r\n');
  });
});
