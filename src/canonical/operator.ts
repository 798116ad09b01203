/**
 * The canonical operator record: what every partner format and the C-TPAT export
 * translate to and from. A partner's own vocabulary for categories and levels is kept
 * verbatim (it does not map one-to-one onto any other partner's), while status, dates,
 * identifiers and MIDs share one meaning across all formats.
 */
import { z } from 'zod';

/** `YYYY-MM-DD`, a real calendar date. */
export const IsoDate = z.iso.date().describe('Calendar date, YYYY-MM-DD.');

/** RFC 3339 with `Z` or `±hh:mm`, at most three fraction digits; kept as written so the offset survives. */
export const Timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/)
  .describe('RFC 3339 timestamp with Z or ±hh:mm and at most three fraction digits, offset kept as written.');

/** Canonical status of a certification. `applicant` exists only for C-TPAT members. */
export const StatusCode = z.enum(['active', 'suspended', 'revoked', 'applicant']).describe('Canonical status; applicant exists only for C-TPAT members.');
export type StatusCode = z.infer<typeof StatusCode>;

export const StatusEvent = z.strictObject({
  code: StatusCode,
  effective: IsoDate,
  reason: z.string().optional(),
});

export const Identifier = z.strictObject({
  scheme: z.string().min(1).describe('Scheme id: `eori`, `jp-corp`, `kr-brn`, `ca-program-account`, `mx-rfc`, `ctpat`, …'),
  value: z.string().min(1),
});

export const Address = z.strictObject({
  street: z.string().optional(),
  number: z.string().optional().describe('House number where a format keeps it apart from the street (MX `NumeroExterior`).'),
  district: z.string().optional().describe('Neighbourhood or district (MX `Colonia`).'),
  city: z.string().optional(),
  region: z.string().optional().describe('State, province or prefecture code (CA `province`, MX `Estado`, C-TPAT `state`).'),
  postalCode: z.string().optional(),
  country: z.string().optional().describe('ISO 3166 alpha-2.'),
});

export const MidLink = z.strictObject({
  mid: z.string().min(1),
  validFrom: IsoDate.optional(),
  validTo: IsoDate.optional().describe('Inclusive.'),
  registeredVia: z.string().optional(),
});

export const Operator = z.strictObject({
  key: z.string().min(1).describe('The record key: the partner\'s authorisation number, or the C-TPAT account number.'),
  identifier: Identifier.describe('The operator\'s national identifier (EORI, corporate number, BN, RFC, C-TPAT account).'),
  authorisation: z
    .strictObject({
      type: z.string().optional().describe('Authorisation type where the programme has several (`AEOC`, `AEOS`, `AEOF`, `CTPAT`).'),
      category: z.string().optional().describe('Business category in the partner\'s own vocabulary (`EXPORTER`, `IMPORTER_EXPORTER`, …).'),
      level: z.string().optional().describe('Grade or tier in the programme\'s own vocabulary (KR `AAA`, C-TPAT `TIER3`).'),
      issuingAuthority: z.string().optional().describe('Issuing customs office.'),
      grantedOn: IsoDate.optional(),
      renewedOn: IsoDate.optional(),
    })
    .default({}),
  name: z.strictObject({
    legal: z.string().min(1),
    local: z.string().optional().describe('The name in the partner\'s own script where the format carries it apart (JP, KR).'),
    trading: z.string().optional().describe('Trading or operating name.'),
  }),
  address: Address.optional(),
  status: z.strictObject({
    code: StatusCode,
    effective: IsoDate.optional(),
    history: z.array(StatusEvent).optional(),
  }),
  consent: z
    .strictObject({
      given: z.boolean(),
      withdrawnOn: IsoDate.optional(),
    })
    .optional()
    .describe('Absent where the format carries no consent (the administration shares only consenting operators).'),
  mids: z.array(MidLink).default([]),
  carrier: z
    .strictObject({
      code: z.string().optional().describe('Carrier code or SCAC.'),
      permit: z.string().optional().describe('Carrier permit number (MX `PermisoSCT`).'),
    })
    .optional(),
});
export type Operator = z.infer<typeof Operator>;
