import { describe, it, expect } from 'vitest';
import {
  checkIdentifier,
  isSchemeId,
  jpCorporateCheckDigit,
  krBrnCheckDigit,
  luhnValid,
  normaliseLookupId,
  schemeIds,
  euMemberStates,
  isoCountryCodes,
} from '../../src/identifiers/index.ts';
import type { IdentifierVerdict, SchemeId } from '../../src/identifiers/index.ts';

type Code = Exclude<IdentifierVerdict, { ok: true }>['code'];

// Every check-digit example below was verified by hand and by computation, not copied.
const valid: [SchemeId, string][] = [
  ['eori', 'DE1234567890123'],
  ['eori', 'FR1'],
  ['eori', 'NL123456789012345'],
  ['eori', 'ELABC123'], // Greece as EU customs writes it
  ['eori', 'GR094014201'], // Greece by its ISO code
  ['eori', 'GB123456789000'],
  ['eori', 'GB123456789000123'],
  ['eori', 'XI123456789000'],
  ['eori-gb', 'GB123456789000'],
  ['eori-gb', 'XI123456789000123'],
  ['eu-aeo-authorisation', 'DEAEOF1234/5678'],
  ['eu-aeo-authorisation', 'NLAEOS0001'],
  ['eu-aeo-authorisation', 'XIAEOC-1'],
  ['eu-aeo-authorisation', `FRAEOS${'A'.repeat(29)}`],
  ['gb-aeo-authorisation', 'GBAEOS1234/19'], // FORMATS.md GB sample
  ['jp-corp', '5010401089998'],
  ['jp-corp', '7000012050002'],
  ['jp-corp', '7123456789012'],
  ['kr-brn', '123-45-67891'], // FORMATS.md KR sample: its check digit is right
  ['kr-brn', '1234567891'],
  ['kr-brn', '124-81-00998'],
  ['ca-bn', '123456782'], // the BN inside the FORMATS.md CA sample
  ['ca-bn', '100000009'],
  ['ca-program-account', '123456782RM0001'], // FORMATS.md CA sample
  ['mx-rfc', 'ABC991231AB1'],
  ['mx-rfc', 'AÑ&900101X9Z'],
  ['mx-rfc', 'ABC000229XY1'], // 2000 was a leap year
  ['mx-rfc', 'ABC040229XY1'],
  ['mid', 'GBTHAVAL45REA'],
  ['mid', 'KRHANPRE1234GUM'],
  ['mid', 'XOERALAU4500TOR'],
  ['mid', 'USA'],
  ['ctpat', 'CT-0012345'],
  ['ctpat', 'AB'],
  ['ctpat', 'A'.repeat(20)],
  ['opaque-key', 'KR-AEO-2011-00321'],
  ['opaque-key', 'PIP-000123'],
  ['opaque-key', 'A/1'],
  ['opaque-key', 'X'],
  ['opaque-key', '9'.repeat(32)],
  ['customs-office', 'DE007600'],
  ['customs-office', 'XI000142'],
];

const invalid: [SchemeId, string, Code][] = [
  ['eori', '', 'invalid-syntax'],
  ['eori', 'DE', 'invalid-syntax'],
  ['eori', 'de123', 'invalid-syntax'],
  ['eori', 'DE1234567890123456', 'invalid-syntax'], // 16 after the country
  ['eori', 'DE 123', 'invalid-syntax'],
  ['eori', ' DE123', 'invalid-syntax'],
  ['eori', 'DE123\n', 'invalid-syntax'],
  ['eori', 'US123456', 'invalid-country'],
  ['eori', 'CH123456', 'invalid-country'],
  ['eori', 'ZZ123456', 'invalid-country'],
  ['eori', 'GB12345678900', 'invalid-syntax'], // 13 digits
  ['eori', 'GB12345678900A', 'invalid-syntax'],
  ['eori', 'XI1234', 'invalid-syntax'],
  ['eori-gb', 'DE123456789000', 'invalid-country'],
  ['eori-gb', 'GB1234567890', 'invalid-syntax'],
  ['eori-gb', 'gb123456789000', 'invalid-syntax'],
  ['eu-aeo-authorisation', 'GBAEOS1234/19', 'invalid-country'],
  ['eu-aeo-authorisation', 'USAEOS1', 'invalid-country'],
  ['eu-aeo-authorisation', 'DEAEOX1', 'invalid-syntax'],
  ['eu-aeo-authorisation', 'DEAEOS', 'invalid-syntax'],
  ['eu-aeo-authorisation', `FRAEOS${'A'.repeat(30)}`, 'invalid-syntax'],
  ['eu-aeo-authorisation', 'DEAEOS1 2', 'invalid-syntax'],
  ['gb-aeo-authorisation', 'DEAEOF1234', 'invalid-country'],
  ['gb-aeo-authorisation', 'XIAEOS1234', 'invalid-country'],
  ['gb-aeo-authorisation', 'GBAEOS1234/19 ', 'invalid-syntax'],
  ['jp-corp', '501040108999', 'invalid-syntax'],
  ['jp-corp', '50104010899980', 'invalid-syntax'],
  ['jp-corp', '5010401O89998', 'invalid-syntax'],
  ['jp-corp', '4010401089998', 'invalid-check-digit'],
  ['jp-corp', '5010401089999', 'invalid-check-digit'],
  ['kr-brn', '123-45-67890', 'invalid-check-digit'],
  ['kr-brn', '124-81-00999', 'invalid-check-digit'],
  ['kr-brn', '123--45-67891', 'invalid-syntax'],
  ['kr-brn', '123 45 67891', 'invalid-syntax'],
  ['kr-brn', '12-345-67891', 'invalid-syntax'],
  ['ca-bn', '123456789', 'invalid-check-digit'],
  ['ca-bn', '12345678', 'invalid-syntax'],
  ['ca-bn', '123-456-782', 'invalid-syntax'],
  ['ca-program-account', '123456789RM0001', 'invalid-check-digit'],
  ['ca-program-account', '123456782RT0001', 'invalid-syntax'],
  ['ca-program-account', '123456782RM001', 'invalid-syntax'],
  ['ca-program-account', '123456782rm0001', 'invalid-syntax'],
  ['mx-rfc', 'ABC010229XY1', 'invalid-date'], // neither 1901 nor 2001 is a leap year
  ['mx-rfc', 'ABC000431XY1', 'invalid-date'],
  ['mx-rfc', 'ABC001301XY1', 'invalid-date'],
  ['mx-rfc', 'ABC000100XY1', 'invalid-date'],
  ['mx-rfc', 'ABC000000XY1', 'invalid-date'],
  ['mx-rfc', 'ABCD991231AB1', 'invalid-syntax'], // a person's RFC (13 characters)
  ['mx-rfc', 'abc991231AB1', 'invalid-syntax'],
  ['mx-rfc', 'AB1991231AB1', 'invalid-syntax'],
  ['mx-rfc', 'ABC991231AB', 'invalid-syntax'],
  ['mx-rfc', 'AN\u0303C991231AB1', 'invalid-syntax'], // Ñ decomposed is not one letter
  ['mid', 'CAABCCOM1TOR', 'invalid-country'],
  ['mid', 'ZZABC', 'invalid-country'],
  ['mid', 'XIABC', 'invalid-country'],
  ['mid', 'GB', 'invalid-syntax'],
  ['mid', 'G1ABC', 'invalid-syntax'],
  ['mid', 'GBTHAVAL45READXY', 'invalid-syntax'], // 16 characters
  ['mid', 'GBTHA VAL', 'invalid-syntax'],
  ['mid', 'gbthaval45rea', 'invalid-syntax'],
  ['ctpat', 'A', 'invalid-syntax'],
  ['ctpat', 'A'.repeat(21), 'invalid-syntax'],
  ['ctpat', 'CT/001', 'invalid-syntax'],
  ['ctpat', 'ct-0012345', 'invalid-syntax'],
  ['opaque-key', '', 'invalid-syntax'],
  ['opaque-key', '9'.repeat(33), 'invalid-syntax'],
  ['opaque-key', 'KR_AEO', 'invalid-syntax'],
  ['opaque-key', '\tPIP-1', 'invalid-syntax'],
  ['customs-office', 'DE00760', 'invalid-syntax'],
  ['customs-office', 'DE0076000', 'invalid-syntax'],
  ['customs-office', 'D1007600', 'invalid-syntax'],
  ['customs-office', 'ZZ007600', 'invalid-country'],
];

describe('checkIdentifier', () => {
  it.each(valid)('%s accepts %j', (scheme, value) => {
    expect(checkIdentifier(scheme, value)).toEqual({ ok: true });
  });

  it.each(invalid)('%s rejects %j as %s', (scheme, value, code) => {
    const verdict = checkIdentifier(scheme, value);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.code).toBe(code);
    // One plain sentence that does not quote anything but (a part of) the value.
    expect(verdict.message).toMatch(/^[A-Z].*\.$/);
    expect(verdict.message.split('. ')).toHaveLength(1);
  });

  it('reports surrounding white space as such rather than as a wrong format', () => {
    for (const scheme of schemeIds) {
      const verdict = checkIdentifier(scheme, ' X');
      expect(verdict).toMatchObject({ ok: false, code: 'invalid-syntax' });
      if (!verdict.ok) expect(verdict.message).toMatch(/white space/);
    }
  });

  it('never echoes more than the value in a message', () => {
    const verdict = checkIdentifier('eori', 'US123456');
    expect(verdict).toEqual({
      ok: false,
      code: 'invalid-country',
      message: 'An EORI must start with an EU member state, GB or XI, not US.',
    });
  });
});

describe('schemeIds and isSchemeId', () => {
  it('lists each scheme once', () => {
    expect(new Set(schemeIds).size).toBe(schemeIds.length);
    expect(schemeIds).toHaveLength(13);
  });

  it.each([
    ['eori', true],
    ['mid', true],
    ['customs-office', true],
    ['EORI', false],
    ['eu-aeo', false],
    ['', false],
  ] as const)('isSchemeId(%j) is %s', (s, expected) => {
    expect(isSchemeId(s)).toBe(expected);
  });
});

describe('normaliseLookupId', () => {
  it.each([
    ['kr-brn', '123-45-67891', '1234567891'],
    ['kr-brn', '123 45 67891', '1234567891'],
    ['ca-bn', '123-456 782', '123456782'],
    ['eori', 'de123456789', 'DE123456789'],
    ['eori', 'de-12 3', 'DE-12 3'], // only kr-brn and ca-bn lose dashes and spaces
    ['mid', 'gbthaval45rea', 'GBTHAVAL45REA'],
    ['mx-rfc', 'añ&991231ab1', 'AÑ&991231AB1'],
    ['eu-aeo', 'deaeof1234/5', 'DEAEOF1234/5'],
  ] as const)('%s %j → %j', (scheme, id, expected) => {
    expect(normaliseLookupId(scheme, id)).toBe(expected);
  });

  it('normalises a dashed KR number into one that still passes its rule', () => {
    expect(checkIdentifier('kr-brn', normaliseLookupId('kr-brn', '124-81-00998'))).toEqual({ ok: true });
  });
});

describe('check digits', () => {
  it.each([
    ['010401089998', 5],
    ['000012050002', 7],
    ['123456789012', 7], // Σ = 74, 74 mod 9 = 2, 9 − 2 = 7
  ] as const)('jpCorporateCheckDigit(%s) is %i', (digits, expected) => {
    expect(jpCorporateCheckDigit(digits)).toBe(expected);
  });

  it.each([
    ['123456789', 1], // 165 + floor(45 / 10) = 169 → (10 − 9) mod 10
    ['124810099', 8], // 118 + 4 = 122 → 8
  ] as const)('krBrnCheckDigit(%s) is %i', (digits, expected) => {
    expect(krBrnCheckDigit(digits)).toBe(expected);
  });

  it.each([
    ['123456782', true],
    ['100000009', true],
    ['0', true],
    ['123456789', false],
    ['12345678a', false],
    ['', false],
  ] as const)('luhnValid(%j) is %s', (digits, expected) => {
    expect(luhnValid(digits)).toBe(expected);
  });

  it.each([
    [() => jpCorporateCheckDigit('12345678901'), 'jpCorporateCheckDigit'],
    [() => krBrnCheckDigit('12345678x'), 'krBrnCheckDigit'],
  ] as const)('rejects a wrong input shape (%#)', (call, name) => {
    expect(call).toThrow(new RegExp(name));
  });
});

describe('country lists', () => {
  it('holds the 249 ISO codes and the 27 EU states, all of them ISO', () => {
    expect(isoCountryCodes.size).toBe(249);
    expect(euMemberStates.size).toBe(27);
    for (const c of euMemberStates) expect(isoCountryCodes.has(c)).toBe(true);
    for (const c of ['XI', 'EL', 'XK', 'UK', 'EU']) expect(isoCountryCodes.has(c)).toBe(false);
    expect(euMemberStates.has('GB')).toBe(false);
  });
});
