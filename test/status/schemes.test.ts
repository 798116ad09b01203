/** parseSubject: PROTOCOL §5 normalisation, then each scheme's FORMATS.md syntax; anything else is a 404. */
import { describe, expect, it } from 'vitest';
import { formatSchemes, isStatusScheme, parseSubject, statusSchemes } from '../../src/status/schemes.ts';

describe('statusSchemes', () => {
  it('lists the six format ids, the five national identifiers, ctpat and mid', () => {
    expect([...statusSchemes].sort()).toEqual(['ca-bn', 'ca-pip', 'ctpat', 'eori', 'eu-aeo', 'gb-aeo', 'jp-aeo', 'jp-corp', 'kr-aeo', 'kr-brn', 'mid', 'mx-oea', 'mx-rfc']);
    expect([...formatSchemes].sort()).toEqual(['ca-pip', 'eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'mx-oea']);
  });

  it('knows no other scheme, not even an identifier rule of its own name', () => {
    for (const scheme of ['eori-gb', 'ca-program-account', 'opaque-key', 'customs-office', 'EORI', '', 'constructor', '__proto__']) {
      expect(isStatusScheme(scheme)).toBe(false);
      expect(parseSubject(scheme, 'DE123')).toBeUndefined();
    }
  });
});

// [scheme, as requested, normalised] — every id here is valid after normalisation.
const accepted: [string, string, string][] = [
  ['eu-aeo', 'DEAEOF1234/5678', 'DEAEOF1234/5678'],
  ['eu-aeo', 'deaeof1234/5678', 'DEAEOF1234/5678'],
  ['eu-aeo', 'XIAEOC-1', 'XIAEOC-1'],
  ['gb-aeo', 'gbaeos1234/19', 'GBAEOS1234/19'],
  ['jp-aeo', 'jp-aeo-000123', 'JP-AEO-000123'],
  ['kr-aeo', 'KR-AEO-2011-00321', 'KR-AEO-2011-00321'],
  ['ca-pip', 'pip-000123', 'PIP-000123'],
  ['mx-oea', 'OEA/2019/0001', 'OEA/2019/0001'],
  ['eori', 'de1234567890123', 'DE1234567890123'],
  ['eori', 'GB123456789000', 'GB123456789000'],
  ['eori', 'xi123456789000123', 'XI123456789000123'],
  ['jp-corp', '5010401089998', '5010401089998'],
  ['kr-brn', '123-45-67891', '1234567891'],
  ['kr-brn', '123 45 67891', '1234567891'],
  ['kr-brn', '1234567891', '1234567891'],
  ['ca-bn', '123-456-782', '123456782'],
  ['ca-bn', '123 456 782', '123456782'],
  ['mx-rfc', 'abc991231ab1', 'ABC991231AB1'],
  ['mx-rfc', 'añ&900101x9z', 'AÑ&900101X9Z'],
  ['ctpat', 'ct-0012345', 'CT-0012345'],
  ['mid', 'gbthaval45rea', 'GBTHAVAL45REA'],
  ['mid', 'XOERALAU4500TOR', 'XOERALAU4500TOR'],
];

// [scheme, id, why] — each fails its scheme's syntax after normalisation.
const refused: [string, string, string][] = [
  ['eu-aeo', 'GBAEOS1234/19', 'a GB authorisation is not an EU one'],
  ['eu-aeo', 'DEAEOX1234', 'not AEOC, AEOS or AEOF'],
  ['eu-aeo', 'DEAEOF 1234', 'a space inside'],
  ['gb-aeo', 'DEAEOF1234', 'a GB authorisation starts with GB'],
  ['jp-aeo', 'A'.repeat(33), 'an opaque key is at most 32 characters'],
  ['kr-aeo', 'KR_AEO', 'an underscore is not in an opaque key'],
  ['ca-pip', 'PIP 000123', 'a space is not in an opaque key'],
  ['mx-oea', '', 'empty'],
  ['eori', 'US123456', 'not an EU country'],
  ['eori', 'GB12345678900', 'a GB EORI has 12 or 15 digits'],
  ['eori', ' DE123', 'white space around it'],
  ['jp-corp', '5010401089997', 'wrong check digit'],
  ['jp-corp', '501040108999', '12 digits'],
  ['kr-brn', '123-45-67890', 'wrong check digit'],
  ['kr-brn', '123-45-6789', '9 digits'],
  ['ca-bn', '123456789', 'not Luhn-valid'],
  ['ca-bn', '123456782RM0001', 'a programme account is not a BN'],
  ['mx-rfc', 'ABC991331AB1', 'no 13th month'],
  ['mx-rfc', 'ABC010229XY1', '2001 and 1901 were not leap years'],
  ['ctpat', 'C', 'too short'],
  ['ctpat', 'CT/0012345', 'a slash is not in a C-TPAT account'],
  ['mid', 'CAEXAMPLE1', 'a Canadian MID starts with its province'],
  ['mid', '1BCDEF', 'starts with two letters'],
  ['mid', 'ZZABC', 'not a country'],
];

describe('parseSubject', () => {
  it.each(accepted)('%s %s → %s', (scheme, raw, id) => {
    expect(parseSubject(scheme, raw)).toEqual({ scheme, id });
  });

  it.each(refused)('%s %j is a 404 (%s)', (scheme, raw) => {
    expect(parseSubject(scheme, raw)).toBeUndefined();
  });

  it('removes dashes and spaces only for kr-brn and ca-bn', () => {
    expect(parseSubject('kr-aeo', 'KR AEO')).toBeUndefined();
    expect(parseSubject('ctpat', 'CT 0012345')).toBeUndefined();
    expect(parseSubject('ctpat', 'CT-0012345')).toEqual({ scheme: 'ctpat', id: 'CT-0012345' });
  });

  it('never looks at a long id', () => {
    expect(parseSubject('kr-brn', `123${' '.repeat(100)}4567891`)).toBeUndefined();
  });
});
