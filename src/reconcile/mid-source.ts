/**
 * The name and address a record's MIDs are constructed from (DOMAIN.md "How a foreign
 * operator is linked on U.S. entries"); mid.ts does the construction itself.
 */
import type { Operator } from '../canonical/operator.ts';
import { isoCountryCodes } from '../identifiers/countries.ts';
import type { MidSource } from '../identifiers/mid.ts';
import type { Partner } from '../registry/partner.ts';

/** The street line for the number part: street, plus ' ' + number where the format keeps the number apart (MX). */
function streetLine(address: Operator['address']): string | undefined {
  const street = address?.street;
  const number = address?.number;
  if (number === undefined) return street;
  return street === undefined ? number : `${street} ${number}`;
}

/** The partner's country when the address has none: its id if a country code, else an EORI's country prefix. */
export function partnerCountry(record: Operator, partner: Partner): string | undefined {
  // `EU` is two letters but no country: its records name theirs in the EORI.
  if (/^[A-Z]{2}$/.test(partner.id) && isoCountryCodes.has(partner.id)) return partner.id;
  if (record.identifier.scheme === 'eori' && /^[A-Z]{2}/.test(record.identifier.value)) {
    return record.identifier.value.slice(0, 2);
  }
  return undefined;
}

/** The MidSource for a record: legal name (Latin script), street (+ number), city, country (else the partner's), region. */
export function midSourceOf(record: Operator, partner: Partner): MidSource {
  const address = record.address;
  return {
    name: record.name.legal,
    street: streetLine(address),
    city: address?.city,
    country: address?.country,
    region: address?.region,
    fallbackCountry: partnerCountry(record, partner),
  };
}
