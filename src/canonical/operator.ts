/**
 * The canonical operator record: what every partner format and the C-TPAT export
 * translate to and from. A partner's own vocabulary for categories and levels is kept
 * verbatim (it does not map one-to-one onto any other partner's), while status, dates,
 * identifiers and MIDs share one meaning across all formats.
 */
import { z } from 'zod';

/** `YYYY-MM-DD`, a real calendar date. */
export const IsoDate = z.iso.date().describe('Calendar date, YYYY-MM-DD');

/** RFC 3339 with `Z` or `±hh:mm`, at most three fraction digits; kept as written so the offset survives. */
export const Timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/)
  .describe('RFC 3339 timestamp, offset kept as written');

/** Canonical status of a certification. `applicant` exists only for C-TPAT members. */
export const StatusCode = z.enum(['active', 'suspended', 'revoked', 'applicant']);
export type StatusCode = z.infer<typeof StatusCode>;

export const StatusEvent = z.strictObject({
  code: StatusCode,
  effective: IsoDate,
  reason: z.string().optional(),
});

export const Identifier = z.strictObject({
  /** Scheme id: `eori`, `jp-corp`, `kr-brn`, `ca-program-account`, `mx-rfc`, `ctpat`, … */
  scheme: z.string().min(1),
  value: z.string().min(1),
});

export const Address = z.strictObject({
  street: z.string().optional(),
  /** House number where a format keeps it apart from the street (MX `NumeroExterior`). */
  number: z.string().optional(),
  /** Neighbourhood or district (MX `Colonia`). */
  district: z.string().optional(),
  city: z.string().optional(),
  /** State, province or prefecture code (CA `province`, MX `Estado`, C-TPAT `state`). */
  region: z.string().optional(),
  postalCode: z.string().optional(),
  /** ISO 3166 alpha-2. */
  country: z.string().optional(),
});

export const MidLink = z.strictObject({
  mid: z.string().min(1),
  validFrom: IsoDate.optional(),
  /** Inclusive. */
  validTo: IsoDate.optional(),
  registeredVia: z.string().optional(),
});

export const Operator = z.strictObject({
  /** The record key: the partner's authorisation number, or the C-TPAT account number. */
  key: z.string().min(1),
  /** The operator's national identifier (EORI, corporate number, BN, RFC, C-TPAT account). */
  identifier: Identifier,
  authorisation: z
    .strictObject({
      /** Authorisation type where the programme has several (`AEOC`, `AEOS`, `AEOF`, `CTPAT`). */
      type: z.string().optional(),
      /** Business category in the partner's own vocabulary (`EXPORTER`, `IMPORTER_EXPORTER`, …). */
      category: z.string().optional(),
      /** Grade or tier in the programme's own vocabulary (KR `AAA`, C-TPAT `TIER3`). */
      level: z.string().optional(),
      /** Issuing customs office. */
      issuingAuthority: z.string().optional(),
      grantedOn: IsoDate.optional(),
      renewedOn: IsoDate.optional(),
    })
    .default({}),
  name: z.strictObject({
    legal: z.string().min(1),
    /** The name in the partner's own script where the format carries it apart (JP, KR). */
    local: z.string().optional(),
    /** Trading or operating name. */
    trading: z.string().optional(),
  }),
  address: Address.optional(),
  status: z.strictObject({
    code: StatusCode,
    effective: IsoDate.optional(),
    history: z.array(StatusEvent).optional(),
  }),
  /** Absent where the format carries no consent (the administration shares only consenting operators). */
  consent: z
    .strictObject({
      given: z.boolean(),
      withdrawnOn: IsoDate.optional(),
    })
    .optional(),
  mids: z.array(MidLink).default([]),
  carrier: z
    .strictObject({
      /** Carrier code or SCAC. */
      code: z.string().optional(),
      /** Carrier permit number (MX `PermisoSCT`). */
      permit: z.string().optional(),
    })
    .optional(),
});
export type Operator = z.infer<typeof Operator>;
