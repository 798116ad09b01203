/**
 * Identifier rules of FORMATS.md ("Common rules", identifier table), checked on the way
 * in, and the PROTOCOL.md §5 normalisation of an id in a status look-up. Values are taken
 * verbatim: nothing here trims, upper-cases or strips a value before judging it.
 */
import { jpCorporateCheckDigit, krBrnCheckDigit, luhnValid } from './check-digits.ts';
import { euMemberStates, isoCountryCodes, midProvinceCodes } from './countries.ts';

/** Every identifier scheme the gateway checks. */
export type SchemeId =
  | 'eori'
  | 'eori-gb'
  | 'eu-aeo-authorisation'
  | 'gb-aeo-authorisation'
  | 'jp-corp'
  | 'kr-brn'
  | 'ca-bn'
  | 'ca-program-account'
  | 'mx-rfc'
  | 'mid'
  | 'ctpat'
  | 'opaque-key'
  | 'customs-office';

/** The outcome of checking one identifier; a failure says which rule it broke. */
export type IdentifierVerdict =
  | { ok: true }
  | { ok: false; code: 'invalid-syntax' | 'invalid-check-digit' | 'invalid-date' | 'invalid-country'; message: string };

type FailureCode = Exclude<IdentifierVerdict, { ok: true }>['code'];

/** All scheme ids, in the order of the SchemeId union. */
export const schemeIds: readonly SchemeId[] = Object.freeze([
  'eori',
  'eori-gb',
  'eu-aeo-authorisation',
  'gb-aeo-authorisation',
  'jp-corp',
  'kr-brn',
  'ca-bn',
  'ca-program-account',
  'mx-rfc',
  'mid',
  'ctpat',
  'opaque-key',
  'customs-office',
] as const);

const schemeIdSet: ReadonlySet<string> = new Set(schemeIds);

/** Whether `s` names a scheme this module checks. */
export function isSchemeId(s: string): s is SchemeId {
  return schemeIdSet.has(s);
}

const OK: IdentifierVerdict = Object.freeze({ ok: true });

function fail(code: FailureCode, message: string): IdentifierVerdict {
  return { ok: false, code, message };
}

/** How each scheme is named at the start of a message. */
const labels: Readonly<Record<SchemeId, string>> = {
  eori: 'An EORI',
  'eori-gb': 'A GB or XI EORI',
  'eu-aeo-authorisation': 'An EU AEO authorisation number',
  'gb-aeo-authorisation': 'A GB AEO authorisation number',
  'jp-corp': 'A JP corporate number',
  'kr-brn': 'A KR business registration number',
  'ca-bn': 'A CA business number',
  'ca-program-account': 'A CA programme account number',
  'mx-rfc': 'A company RFC',
  mid: 'A MID',
  ctpat: 'A C-TPAT account number',
  'opaque-key': 'A record key',
  'customs-office': 'A customs office code',
};

// GB and XI (Northern Ireland) EORIs are numeric only, in two lengths.
const GB_EORI = /^(GB|XI)(\d{12}|\d{15})$/;
const ANY_EORI = /^([A-Z]{2})[A-Z0-9]{1,15}$/;
const AEO_AUTHORISATION = /^([A-Z]{2})(AEOC|AEOS|AEOF)[A-Z0-9/-]{1,29}$/;
// The other shapes, here and not in the functions that test them: a regular expression
// literal makes a new RegExp object each time it is evaluated, one per record read (the
// MID's alone, 7.9 MB of garbage over a 100,000-record GB document).
const JP_CORP = /^\d{13}$/;
const KR_BRN = /^\d{3}-?\d{2}-?\d{5}$/;
const CA_BN = /^\d{9}$/;
const CA_PROGRAM_ACCOUNT = /^(\d{9})RM\d{4}$/;
const MX_RFC = /^[A-Z&Ñ]{3}(\d{2})(\d{2})(\d{2})[A-Z0-9]{3}$/;
const MID = /^[A-Z]{2}[A-Z0-9]{1,13}$/;
const CUSTOMS_OFFICE = /^[A-Z]{2}[A-Z0-9]{6}$/;

/**
 * Countries an EU EORI or AEO authorisation may start with: the member states, `EL`
 * (how EU customs and VAT write Greece) and `XI` (Northern Ireland, which applies EU
 * customs law under the Windsor Framework).
 */
function isEuCustomsCountry(code: string): boolean {
  return euMemberStates.has(code) || code === 'EL' || code === 'XI';
}

function checkEori(value: string): IdentifierVerdict {
  if (!ANY_EORI.test(value)) return fail('invalid-syntax', 'An EORI is a two-letter country code followed by 1 to 15 capital letters or digits.');
  const country = value.slice(0, 2);
  if (country === 'GB' || country === 'XI') return checkGbEori(value);
  if (!isEuCustomsCountry(country)) {
    return fail('invalid-country', `An EORI must start with an EU member state, GB or XI, not ${country}.`);
  }
  return OK;
}

function checkGbEori(value: string): IdentifierVerdict {
  if (GB_EORI.test(value)) return OK;
  const m = ANY_EORI.exec(value);
  if (m && m[1] !== 'GB' && m[1] !== 'XI') {
    return fail('invalid-country', `A GB or XI EORI must start with GB or XI, not ${m[1] ?? ''}.`);
  }
  return fail('invalid-syntax', 'A GB or XI EORI is GB or XI followed by exactly 12 or 15 digits.');
}

/** Made once: an arrow written in the checker's call made a new function for every record. */
const isGb = (country: string) => country === 'GB';

function checkAeoAuthorisation(
  value: string,
  countryAllowed: (c: string) => boolean,
  which: string,
  allowedText: string,
): IdentifierVerdict {
  if (!AEO_AUTHORISATION.test(value)) {
    return fail(
      'invalid-syntax',
      `${which} is a two-letter country code, then AEOC, AEOS or AEOF, then 1 to 29 capital letters, digits, slashes or dashes.`,
    );
  }
  const country = value.slice(0, 2);
  if (!countryAllowed(country)) return fail('invalid-country', `${which} must start with ${allowedText}, not ${country}.`);
  return OK;
}

function checkJpCorp(value: string): IdentifierVerdict {
  if (!JP_CORP.test(value)) return fail('invalid-syntax', 'A JP corporate number is exactly 13 digits.');
  if (Number(value[0]) !== jpCorporateCheckDigit(value.slice(1))) {
    return fail('invalid-check-digit', 'A JP corporate number must start with the check digit of its other 12 digits.');
  }
  return OK;
}

function checkKrBrn(value: string): IdentifierVerdict {
  if (!KR_BRN.test(value)) {
    return fail('invalid-syntax', 'A KR business registration number is 10 digits, written 3-2-5 with optional dashes.');
  }
  const digits = value.replaceAll('-', '');
  if (Number(digits[9]) !== krBrnCheckDigit(digits.slice(0, 9))) {
    return fail('invalid-check-digit', 'A KR business registration number must end with the check digit of its first nine digits.');
  }
  return OK;
}

function checkCaBn(value: string): IdentifierVerdict {
  if (!CA_BN.test(value)) return fail('invalid-syntax', 'A CA business number is exactly 9 digits.');
  if (!luhnValid(value)) return fail('invalid-check-digit', 'A CA business number must pass the Luhn check.');
  return OK;
}

function checkCaProgramAccount(value: string): IdentifierVerdict {
  const m = CA_PROGRAM_ACCOUNT.exec(value);
  if (!m) return fail('invalid-syntax', 'A CA programme account number is a 9-digit business number, RM and 4 digits.');
  if (!luhnValid(m[1] ?? '')) {
    return fail('invalid-check-digit', 'The business number in a CA programme account number must pass the Luhn check.');
  }
  return OK;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Whether YYMMDD is a real date. The century is not written, so Feb 29 is accepted when
 * either 19YY or 20YY is a leap year; that is exactly when YY is divisible by 4 (for
 * `00`, 2000 was a leap year even though 1900 was not).
 */
function isRfcDate(yy: number, mm: number, dd: number): boolean {
  if (mm < 1 || mm > 12 || dd < 1) return false;
  if (mm === 2 && dd === 29) return yy % 4 === 0;
  return dd <= (DAYS_IN_MONTH[mm - 1] ?? 0);
}

function checkMxRfc(value: string): IdentifierVerdict {
  const m = MX_RFC.exec(value);
  if (!m) {
    return fail('invalid-syntax', 'A company RFC is 3 letters (A-Z, Ñ or &), a date YYMMDD and 3 capital letters or digits.');
  }
  if (!isRfcDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    return fail('invalid-date', 'The date YYMMDD in a company RFC must be a real calendar date.');
  }
  return OK;
}

function checkMid(value: string): IdentifierVerdict {
  if (!MID.test(value)) {
    return fail('invalid-syntax', 'A MID is 3 to 15 capital letters or digits, starting with two letters.');
  }
  const country = value.slice(0, 2);
  if (country === 'CA') return fail('invalid-country', 'A MID for Canada starts with its province code, never CA.');
  if (!isoCountryCodes.has(country) && !midProvinceCodes.has(country)) {
    return fail('invalid-country', `A MID must start with an ISO country code or a Canadian province code, not ${country}.`);
  }
  return OK;
}

function checkCustomsOffice(value: string): IdentifierVerdict {
  if (!CUSTOMS_OFFICE.test(value)) {
    return fail('invalid-syntax', 'A customs office code is a two-letter country code followed by 6 capital letters or digits.');
  }
  // XI: Northern Ireland offices have their own prefix under the Windsor Framework.
  const country = value.slice(0, 2);
  if (!isoCountryCodes.has(country) && country !== 'XI') {
    return fail('invalid-country', `A customs office code must start with a country code, not ${country}.`);
  }
  return OK;
}

function pattern(re: RegExp, message: string): (value: string) => IdentifierVerdict {
  return (value) => (re.test(value) ? OK : fail('invalid-syntax', message));
}

const checkers: Readonly<Record<SchemeId, (value: string) => IdentifierVerdict>> = {
  eori: checkEori,
  'eori-gb': checkGbEori,
  'eu-aeo-authorisation': (v) => checkAeoAuthorisation(v, isEuCustomsCountry, 'An EU AEO authorisation number', 'an EU member state or XI'),
  'gb-aeo-authorisation': (v) => checkAeoAuthorisation(v, isGb, 'A GB AEO authorisation number', 'GB'),
  'jp-corp': checkJpCorp,
  'kr-brn': checkKrBrn,
  'ca-bn': checkCaBn,
  'ca-program-account': checkCaProgramAccount,
  'mx-rfc': checkMxRfc,
  mid: checkMid,
  ctpat: pattern(/^[A-Z0-9-]{2,20}$/, 'A C-TPAT account number is 2 to 20 capital letters, digits or dashes.'),
  'opaque-key': pattern(/^[A-Z0-9/-]{1,32}$/, 'A record key is 1 to 32 capital letters, digits, slashes or dashes.'),
  'customs-office': checkCustomsOffice,
};

/** Checks `value` against the FORMATS.md rule of `scheme`, verbatim (surrounding white space is invalid). */
export function checkIdentifier(scheme: SchemeId, value: string): IdentifierVerdict {
  return identifierChecker(scheme)(value);
}

const visibleAscii = (c: number) => c > 0x20 && c < 0x7f;

/** `checkIdentifier` for one scheme, looked up once (a mapping field checks the same scheme on every record). */
export function identifierChecker(scheme: SchemeId): (value: string) => IdentifierVerdict {
  const check = checkers[scheme];
  const padded = `${labels[scheme]} must not have white space around it.`;
  return (value) => {
    // Said apart from the shape so a padded value is not reported as a wrong format.
    // Visible ASCII at both ends cannot be trimmed, which spares trim() on nearly every value.
    const ends = visibleAscii(value.charCodeAt(0)) && visibleAscii(value.charCodeAt(value.length - 1));
    if (!ends && value.length > 0 && value.trim() !== value) return fail('invalid-syntax', padded);
    return check(value);
  };
}

/** PROTOCOL.md §5 lookup normalisation: upper-case; for kr-brn and ca-bn remove dashes and spaces. */
export function normaliseLookupId(scheme: string, id: string): string {
  const upper = id.toUpperCase();
  return scheme === 'kr-brn' || scheme === 'ca-bn' ? upper.replace(/[- ]/g, '') : upper;
}
