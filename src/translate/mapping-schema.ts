/**
 * The language of a mapping file (`mappings/<format>.yaml`). A mapping is data: it says
 * where each canonical field lives in one format, in terms both directions can use, so
 * that the engine knows no partner by name. Checked at load; a bad mapping stops the start.
 */
import { z } from 'zod';
import { schemeIds } from '../identifiers/schemes.ts';
import { valueTypes } from './value-types.ts';
import { textTransforms } from './text-transforms.ts';

const valueTypeName = z.enum(Object.keys(valueTypes) as [keyof typeof valueTypes, ...(keyof typeof valueTypes)[]]);
const transformName = z.enum(Object.keys(textTransforms) as [keyof typeof textTransforms, ...(keyof typeof textTransforms)[]]);
const schemeId = z.enum(schemeIds as unknown as [string, ...string[]]);

/** Format code → canonical value; or, to set several canonical fields from one code, → { path: value }. */
const codes = z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())]));

export interface FieldRule {
  /** Where the value lives in the format, relative to the enclosing node (`.` for the node itself). */
  path?: string | undefined;
  type?: z.infer<typeof valueTypeName> | undefined;
  /** An identifier rule (FORMATS.md), checked on the way in only. */
  check?: string | undefined;
  /** A regular expression the value must match on the way in. */
  pattern?: string | undefined;
  codes?: z.infer<typeof codes> | undefined;
  /** Codes written on the way out only (the gateway's own records), refused on the way in. */
  outboundCodes?: Record<string, string> | undefined;
  /** A fixed canonical value the format does not carry; nothing is written for it. */
  const?: string | boolean | undefined;
  optional?: boolean | undefined;
  /** Must be present, may be null (JSON formats whose ICD says "may be null"). */
  nullable?: boolean | undefined;
  /** An object: canonical sub-field → rule relative to `path`. */
  map?: Record<string, FieldRule | string> | undefined;
  /** A list: each item's canonical sub-field → rule relative to the item. */
  each?: Record<string, FieldRule | string> | undefined;
  /** The list is one text value joined by this separator. */
  split?: string | undefined;
}

export const FieldRuleSchema: z.ZodType<FieldRule> = z.lazy(() =>
  z.strictObject({
    path: z.string().optional(),
    type: valueTypeName.optional(),
    check: schemeId.optional(),
    pattern: z.string().optional(),
    codes: codes.optional(),
    outboundCodes: z.record(z.string(), z.string()).optional(),
    const: z.union([z.string(), z.boolean()]).optional(),
    optional: z.boolean().optional(),
    nullable: z.boolean().optional(),
    map: z.record(z.string(), z.union([z.string(), FieldRuleSchema])).optional(),
    each: z.record(z.string(), z.union([z.string(), FieldRuleSchema])).optional(),
    split: z.string().min(1).optional(),
  }),
);

const rulesInput = z.record(z.string(), z.union([z.string(), FieldRuleSchema]));

/** A condition on canonical fields: each path must hold one of the listed values. */
const condition = z.record(z.string(), z.array(z.string()).min(1));

/** A check across fields of one record, applied when reading and when writing. */
const RecordRule = z.strictObject({
  when: condition.optional(),
  unless: condition.optional(),
  require: z.array(z.string()).optional(),
  forbid: z.array(z.string()).optional(),
  /** `field` must equal the first capture of `capture` applied to `with`. */
  agree: z.strictObject({ field: z.string(), with: z.string(), capture: z.string() }).optional(),
  message: z.string(),
});
export type RecordRule = z.infer<typeof RecordRule>;

/** How one canonical field of a C-TPAT member becomes a field of this partner's record. */
const OutboundRule = z.strictObject({
  /** A canonical path of the member to take the value from (default: the same path). */
  from: z.string().optional(),
  const: z.union([z.string(), z.boolean(), z.null()]).optional(),
  /** `{name}` placeholders filled from canonical paths of the member. */
  template: z.string().optional(),
  codes: z.record(z.string(), z.string()).optional(),
  transform: transformName.optional(),
  default: z.string().optional(),
  /** Keep the value only where the condition holds. */
  when: condition.optional(),
  pattern: z.string().optional(),
  /** For a list: rules applied to each item (`from` then reads the member, not the item). */
  each: z.record(z.string(), z.lazy((): z.ZodType => OutboundRule)).optional(),
});
export type OutboundRule = z.infer<typeof OutboundRule>;

export const MappingSchema = z.strictObject({
  format: z.string().regex(/^[a-z0-9-]+$/),
  /** The registry id of the partner that speaks this format (absent for the U.S. side's own export). */
  partner: z.string().optional(),
  description: z.string().optional(),
  syntax: z.enum(['xml', 'json', 'csv-hdt', 'ndjson']),
  mediaType: z.string(),
  xml: z.strictObject({ namespace: z.string(), root: z.string(), record: z.string() }).optional(),
  json: z.strictObject({ records: z.string() }).optional(),
  csv: z
    .strictObject({
      header: z.strictObject({ kind: z.string(), fields: z.array(z.string()).min(1) }),
      record: z.strictObject({ kind: z.string(), fields: z.array(z.string()).min(1) }),
      trailer: z.strictObject({ kind: z.string(), fields: z.array(z.string()).min(1) }),
    })
    .optional(),
  envelope: rulesInput.optional(),
  /** The canonical path of the record key (default `key`). */
  fields: rulesInput,
  rules: z.array(RecordRule).default([]),
  /** What a record key that appears twice does: invalidate the document (partner formats) or reject both records (C-TPAT export). */
  duplicateKeys: z.enum(['invalidate-document', 'reject-records']).default('invalidate-document'),
  outbound: z
    .strictObject({
      set: z.record(z.string(), OutboundRule).default({}),
      /** Canonical fields set on a member's last record when it stops being eligible. */
      withdrawal: z.strictObject({
        set: z.record(z.string(), z.union([z.string(), z.boolean()])),
        dropAddress: z.boolean().default(false),
      }),
    })
    .optional(),
});
export type Mapping = z.infer<typeof MappingSchema>;
