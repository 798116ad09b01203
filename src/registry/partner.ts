/**
 * A partner's registry entry (PROTOCOL.md §6): one YAML file per partner in
 * PARTNERS_DIR. The files are the one source; the API only reads them.
 */
import { z } from 'zod';

/** Benefit slugs (DOMAIN.md "Benefit vocabulary"); an unknown slug stops the start. */
export const BenefitSlug = z.enum([
  'reduced-examinations',
  'risk-score-reduction',
  'front-of-line',
  'stratified-exam-exemption',
  'shorter-wait-times',
  'fast-lanes',
  'business-resumption',
  'validation-reliance',
]);

/** Request-signing algorithms a partner may be allowed (`Ed25519` is a synonym of `EdDSA`). */
export const SigningAlgorithm = z.enum(['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256']);
export type SigningAlgorithm = z.infer<typeof SigningAlgorithm>;

const date = z.iso.date();

/** A public JWK as registered: only the members a public key needs, never private ones. */
export const PublicJwk = z
  .object({
    kty: z.enum(['EC', 'OKP', 'RSA']),
    kid: z.string().min(1),
    alg: z.string().optional(),
    use: z.literal('sig').optional(),
    crv: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
  })
  .strict();
export type PublicJwk = z.infer<typeof PublicJwk>;

export const PartnerEntry = z.strictObject({
  id: z.string().regex(/^[A-Z][A-Z0-9-]{0,31}$/, 'a party id: upper-case letters, digits and dashes'),
  name: z.string().min(1),
  programme: z.string().min(1),
  /** A mapping in mappings/ (checked against the loaded formats). */
  format: z.string().min(1),
  status: z.enum(['active', 'suspended']).default('active'),
  mra: z
    .strictObject({
      signed: date.optional(),
      inForceFrom: date.optional(),
      inForceUntil: date.nullable().optional(),
      /** Authorisation types or categories recognized; absent: all. */
      scope: z.array(z.string().min(1)).optional(),
      benefits: z.array(BenefitSlug).default([]),
      /** C-TPAT business types sent to the partner; absent: all. */
      outboundBusinessTypes: z.array(z.string().min(1)).optional(),
    })
    .default({ benefits: [] }),
  keys: z
    .strictObject({
      algorithms: z.array(SigningAlgorithm).min(1),
      jwks: z.strictObject({ keys: z.array(PublicJwk) }).optional(),
      jwksUri: z.url().optional(),
    })
    .refine((k) => (k.jwks === undefined) !== (k.jwksUri === undefined), 'exactly one of jwks and jwksUri'),
  delivery: z
    .strictObject({
      url: z.url(),
      /** When the full SNAPSHOT goes out (cron, UTC); default the OUTBOUND_SNAPSHOT_CRON setting. */
      snapshotCron: z.string().regex(/^\S+( \S+){4,5}$/, 'a cron pattern of five or six fields').optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      maxBodyBytes: z.number().int().positive().default(64 * 1024 * 1024),
      requestsPerMinute: z.number().int().positive().default(600),
    })
    .default({ maxBodyBytes: 64 * 1024 * 1024, requestsPerMinute: 600 }),
});
export type Partner = z.infer<typeof PartnerEntry>;

/** What the verifier needs of the registry: partners by id, and their keys by `kid`. */
export interface PartnerDirectory {
  partner(id: string): Partner | undefined;
  /**
   * The partner's key with this `kid`, from its registered set only. For a `jwksUri`
   * partner an unknown `kid` refetches the set (at most once per cooldown).
   */
  key(partnerId: string, kid: string): Promise<PublicJwk | undefined>;
}
