/** Identifier rules, check digits, country lists and MID construction. */
export { checkIdentifier, isSchemeId, normaliseLookupId, schemeIds } from './schemes.ts';
export type { IdentifierVerdict, SchemeId } from './schemes.ts';
export { jpCorporateCheckDigit, krBrnCheckDigit, luhnValid } from './check-digits.ts';
export { canadianProvinceMidCodes, euMemberStates, isoCountryCodes, midProvinceCodes } from './countries.ts';
export { buildMid, explainMid, midParts } from './mid.ts';
export type { MidExplanation, MidParts, MidSource } from './mid.ts';
