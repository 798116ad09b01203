import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { buildMid, checkIdentifier, explainMid, midParts } from '../../src/identifiers/index.ts';
import type { MidParts, MidSource } from '../../src/identifiers/index.ts';

function parts(source: MidSource): MidParts {
  const result = midParts(source);
  if ('error' in result) throw new Error(`expected MID parts, got: ${result.error}`);
  return result;
}

describe('name part (DOMAIN.md and the project decisions)', () => {
  it.each([
    // DOMAIN.md examples
    ['A.B.C. Company', 'ABCCOM'],
    ['Amalgamated Plastics Corp.', 'AMAPLA'],
    ['Bergstrom', 'BER'],
    ['Ozrock', 'OZR'],
    ["O'Brien", 'OBR'],
    ['O’Brien & Sons', 'OBRSON'],
    ['Müller', 'MUL'],
    // initials joined by periods or single spaces are one word
    ['A B C Company', 'ABCCOM'],
    ['A. B. C. Company', 'ABCCOM'],
    ['A  B Company', 'BCOM'], // two spaces do not join: the lone A is the article
    ['A-B Company', 'BCOM'], // hyphens split words
    ['A.N.D. Corp', 'ANDCOR'], // initials that spell a skipped word are kept
    // English skipped words only, whatever their case
    ['The Bank of America', 'BANAME'],
    ['an AND a Widget THE Works', 'WIDWOR'],
    ['Banco de la Nación', 'BANDE'], // `de`, `la` are kept
    ['Gebrüder der Berge', 'GEBDER'],
    // folding
    ['Érablière Laurentienne Ltée', 'ERALAU'],
    ['Straße Werke', 'STRWER'],
    ['Ærø Øl', 'AEROL'],
    ['Łódź Œuvre', 'LODOEU'],
    ['Đông Þór', 'DONTHO'],
    ['Ｆｕｌｌ Ｗｉｄｔｈ', 'FULWID'],
    ['株式会社 Kobe Steel', 'KOBSTE'], // other scripts separate, they give no letters
    ['Hanil Precision Co., Ltd.', 'HANPRE'],
    ['Thames Valley Components Ltd', 'THAVAL'],
    // digits are characters of their word
    ['3M Company', '3MCOM'],
    ['7-Eleven Inc', '7ELE'],
    ['Plastics2000 AG', 'PLAAG'],
    ['Co', 'CO'],
  ])('%j → %s', (name, expected) => {
    expect(parts({ name, country: 'US' }).name).toBe(expected);
  });

  it.each([['123 456'], [''], ['株式会社'], ['The'], ['a of the']])('%j cannot give a MID', (name) => {
    expect(midParts({ name, country: 'US' })).toHaveProperty('error');
    expect(buildMid({ name, country: 'US' })).toBeUndefined();
  });
});

describe('number part', () => {
  it.each([
    // DOMAIN.md examples
    ['11455 Main Street Suite 9999', '1145'],
    ['236 Wendell Ford Blvd Suite 1000', '1000'],
    ['12-34 56 Akasaka Road', '1234'],
    ['92 Alice Springs Road', '92'],
    // FORMATS.md samples
    ['Unit 7, 45 Bath Road', '45'],
    ['1234 Gongdan-ro', '1234'],
    ['4500 Steeles Ave W', '4500'],
    // `,` `.` `-` `/` between two digits are dropped, other marks separate
    ['Plot 1.234, Zone 9', '1234'],
    ['12/3 Rue X', '123'],
    ['12 - 34 Road', '34'],
    ['7,45 Bath Road', '745'],
    ['12–34 Road', '34'], // an en dash is not in the list
    ['Rm 1504, 15/F, 138 Queens Road', '1504'],
    ['0045 Road 12', '45'], // leading zeros are not digits of the number
    ['99999999999999999999 Long Road 1', '9999'],
    ['１２３ Road', '123'],
    ['Main Street', ''],
    ['', ''],
  ])('%j → %j', (street, expected) => {
    expect(parts({ name: 'X Co', street, country: 'US' }).number).toBe(expected);
  });

  it('is empty without a street', () => {
    expect(parts({ name: 'X Co', country: 'US' }).number).toBe('');
  });
});

describe('city part', () => {
  it.each([
    ['Melbourne', 'MEL'],
    ['São Paulo', 'SAO'],
    ['St. Louis', 'STL'],
    ['Saint-Étienne', 'SAI'],
    ['Zürich 8', 'ZUR'],
    ['Ise', 'ISE'],
    ['Yu', 'YU'],
    ['東京', ''],
  ])('%j → %j', (city, expected) => {
    expect(parts({ name: 'X Co', city, country: 'JP' }).city).toBe(expected);
  });
});

describe('country part', () => {
  it.each<[MidSource, string]>([
    [{ name: 'X', country: 'AU' }, 'AU'],
    [{ name: 'X', country: 'au' }, 'AU'],
    [{ name: 'X', fallbackCountry: 'KR' }, 'KR'],
    [{ name: 'X', country: '', fallbackCountry: 'KR' }, 'KR'],
    [{ name: 'X', country: 'DE', fallbackCountry: 'KR' }, 'DE'],
    [{ name: 'X', country: 'XI' }, 'GB'],
    [{ name: 'X', country: 'EL' }, 'GR'],
    [{ name: 'X', country: 'CA', region: 'ON' }, 'XO'],
    [{ name: 'X', fallbackCountry: 'CA', region: 'qc' }, 'XQ'],
    [{ name: 'X', country: 'CA', region: 'AB' }, 'XA'],
    [{ name: 'X', country: 'CA', region: 'BC' }, 'XC'],
    [{ name: 'X', country: 'CA', region: 'MB' }, 'XM'],
    [{ name: 'X', country: 'CA', region: 'NB' }, 'XB'],
    [{ name: 'X', country: 'CA', region: 'NL' }, 'XW'],
    [{ name: 'X', country: 'CA', region: 'NT' }, 'XT'],
    [{ name: 'X', country: 'CA', region: 'NS' }, 'XN'],
    [{ name: 'X', country: 'CA', region: 'NU' }, 'XV'],
    [{ name: 'X', country: 'CA', region: 'PE' }, 'XP'],
    [{ name: 'X', country: 'CA', region: 'SK' }, 'XS'],
    [{ name: 'X', country: 'CA', region: 'YT' }, 'XY'],
    [{ name: 'X', country: 'US', region: 'ON' }, 'US'], // a region only matters in Canada
  ])('%j → %s', (source, expected) => {
    expect(parts(source).country).toBe(expected);
  });

  it.each<[MidSource, RegExp]>([
    [{ name: 'X' }, /no country/],
    [{ name: 'X', country: '' }, /no country/],
    [{ name: 'X', country: 'ZZ', fallbackCountry: 'DE' }, /not an ISO/],
    [{ name: 'X', country: ' GB' }, /not an ISO/],
    [{ name: 'X', country: 'CA' }, /province/],
    [{ name: 'X', country: 'CA', region: 'XX' }, /province/],
  ])('%j cannot give a MID', (source, error) => {
    const result = midParts(source);
    expect('error' in result && result.error).toMatch(error);
  });
});

describe('buildMid', () => {
  it.each<[string, MidSource, string]>([
    ['DOMAIN.md Ozrock', { name: 'Ozrock', street: '92 Alice Springs Road', city: 'Melbourne', country: 'AU' }, 'AUOZR92MEL'],
    [
      'FORMATS.md GB sample',
      { name: 'Thames Valley Components Ltd', street: 'Unit 7, 45 Bath Road', city: 'Reading', country: 'GB' },
      'GBTHAVAL45REA',
    ],
    [
      'FORMATS.md KR sample',
      { name: 'Hanil Precision Co., Ltd.', street: '1234 Gongdan-ro', city: 'Gumi', fallbackCountry: 'KR' },
      'KRHANPRE1234GUM',
    ],
    [
      'FORMATS.md CA sample (no country in the address)',
      { name: 'Érablière Laurentienne Ltée', street: '4500 Steeles Ave W', city: 'Toronto', region: 'ON', fallbackCountry: 'CA' },
      'XOERALAU4500TOR',
    ],
    ['no street number', { name: 'Bergstrom', street: 'Hauptstraße', city: 'Berlin', country: 'DE' }, 'DEBERBER'],
    ['no street, no city', { name: 'Müller', country: 'DE' }, 'DEMUL'],
    [
      'MX street is Calle + NumeroExterior',
      { name: 'Aceros del Norte', street: 'Av. Constitución 2050', city: 'Monterrey', country: 'MX' },
      'MXACEDEL2050MON',
    ],
  ])('%s', (_label, source, expected) => {
    expect(buildMid(source)).toBe(expected);
    expect(checkIdentifier('mid', expected)).toEqual({ ok: true });
  });
});

describe('explainMid', () => {
  const hanil: MidSource = { name: 'Hanil Precision Co., Ltd.', street: '1234 Gongdan-ro', city: 'Gumi', country: 'KR' };

  it('matches the construction', () => {
    expect(explainMid('KRHANPRE1234GUM', hanil)).toEqual({
      matches: true,
      expected: 'KRHANPRE1234GUM',
      given: 'KRHANPRE1234GUM',
      differences: [],
      expectedParts: { country: 'KR', name: 'HANPRE', number: '1234', city: 'GUM' },
      givenParts: { country: 'KR', name: 'HANPRE', number: '1234', city: 'GUM' },
    });
  });

  it.each([
    ['KRHANPRX1234GUM', ['name part is HANPRE, the MID has HANPRX']],
    ['KRHAN1234GUM', ['name part is HANPRE, the MID has HAN']],
    ['KRHANPRE1235GUM', ['number part is 1234, the MID has 1235']],
    ['KRHANPRE234GUM', ['number part is 1234, the MID has 234']],
    ['KRHANPREGUM', ['number part is 1234, the MID has none']],
    ['KRHANPRE1234GUN', ['city part is GUM, the MID has GUN']],
    ['KRHANPRE1234', ['city part is GUM, the MID has none']],
    ['JPHANPRE1234GUM', ['country part is KR, the MID has JP']],
    ['JPHANPRE1234SEO', ['country part is KR, the MID has JP', 'city part is GUM, the MID has SEO']],
    ['KRHANPRX1234SEO', ['name part is HANPRE, the MID has HANPRX', 'city part is GUM, the MID has SEO']],
  ])('%s', (given, differences) => {
    const explained = explainMid(given, hanil);
    expect(explained).toMatchObject({ matches: false, expected: 'KRHANPRE1234GUM', given, differences, expectedParts: { country: 'KR', name: 'HANPRE', number: '1234', city: 'GUM' } });
    // The given MID is cut into the same parts, so that a reader can mark the one that differs.
    expect(Object.values(explained.givenParts!).join('')).toBe(given);
  });

  it('says when the construction has no number but the MID does', () => {
    const source: MidSource = { name: 'Bergstrom', street: 'Hauptstraße', city: 'Berlin', country: 'DE' };
    expect(explainMid('DEBER12BER', source).differences).toEqual(['number part is absent, the MID has 12']);
  });

  it('says why when the MID cannot be constructed', () => {
    const result = explainMid('KRHANPRE1234GUM', { name: 'Hanil' });
    expect(result).toEqual({
      matches: false,
      given: 'KRHANPRE1234GUM',
      differences: ['the MID cannot be constructed: no country: the address has none and no fallback country was given'],
    });
    expect(result).not.toHaveProperty('expected');
  });

  it('does not try to align text far longer than a MID', () => {
    const given = `KR${'A'.repeat(100)}`;
    expect(explainMid(given, hanil).differences).toEqual(['the MID is 102 characters long, a MID has at most 15']);
  });
});

describe('properties', () => {
  const source = fc.record({
    name: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 })),
    street: fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { nil: undefined }),
    city: fc.option(fc.string({ unit: 'binary', maxLength: 20 }), { nil: undefined }),
    country: fc.option(fc.constantFrom('GB', 'DE', 'CA', 'XI', 'EL', 'US', 'KR', 'ZZ', ''), { nil: undefined }),
    region: fc.option(fc.constantFrom('ON', 'QC', 'YT', 'XX'), { nil: undefined }),
    fallbackCountry: fc.option(fc.constantFrom('JP', 'CA', 'MX'), { nil: undefined }),
  });

  it('a built MID always passes the MID rule and is at most 15 characters', () => {
    fc.assert(
      fc.property(source, (s) => {
        const mid = buildMid(s);
        if (mid === undefined) return;
        expect(mid.length).toBeLessThanOrEqual(15);
        expect(checkIdentifier('mid', mid)).toEqual({ ok: true });
      }),
    );
  });

  it('a built MID explains as a match, and one changed part is named alone', () => {
    fc.assert(
      fc.property(source, (s) => {
        const mid = buildMid(s);
        if (mid === undefined) return;
        expect(explainMid(mid, s)).toMatchObject({ matches: true, expected: mid, given: mid, differences: [] });
        const changedCountry = (mid.startsWith('JP') ? 'DE' : 'JP') + mid.slice(2);
        expect(explainMid(changedCountry, s).differences).toHaveLength(1);
      }),
    );
  });

  it('adding skipped words or surrounding punctuation does not change the name part', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][a-z]{3,8} [A-Z][a-z]{3,8}$/), (name) => {
        const plain = buildMid({ name, country: 'DE' });
        expect(buildMid({ name: `The ${name.replace(' ', ' of the ')}, Ltd.`, country: 'DE' })).toBe(plain);
      }),
    );
  });
});
