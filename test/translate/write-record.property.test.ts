/**
 * A canonical record to a format's tree through per-field compiled accessors gives the
 * same tree, member order included (the XML writer follows it), and the same faults as
 * the interpreted walk it replaced, which is kept below, verbatim, as the reference.
 * Records: every format's fixture records and C-TPAT members in its flavour, with members
 * removed, nulled or replaced by values of the wrong kind or codes no table has.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { memberToPartnerRecord } from '../../src/translate/outbound.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { applyEdits } from '../support/record-edits.ts';
import { writeFields } from '../../src/translate/write-record.ts';
import type { RecordIssueCode } from '../../src/errors.ts';
import { formatPath, isObject, TEXT, type PathSegment, type TreeObject, type TreeValue } from '../../src/parse/tree.ts';
import { getAt } from '../../src/translate/canonical-path.ts';
import type { CompiledField } from '../../src/translate/compile.ts';
import type { FieldIssue } from '../../src/translate/read-record.ts';

// --- The previous walk (src/translate/write-record.ts at commit cf5eb9b), the reference. ---

/** Writes `fields` of canonical `source` into `node`; returns the faults found. */
function previousWriteFields(fields: readonly CompiledField[], source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  writeFieldsInto(fields, source, textual, node, at, issues);
  return issues;
}

function writeFieldsInto(fields: readonly CompiledField[], source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[], issues: FieldIssue[]): void {
  for (const field of fields) writeField(field, source, textual, node, at, issues);
}

/** Where a field is, built only for a fault or a nested walk: most fields of most records have neither. */
const whereOf = (at: readonly PathSegment[], field: CompiledField): PathSegment[] => [...at, ...field.path];

function problem(issues: FieldIssue[], at: readonly PathSegment[], field: CompiledField, code: RecordIssueCode, message: (where: PathSegment[]) => string): void {
  const where = whereOf(at, field);
  issues.push({ path: where, code, message: message(where) });
}

/** Sets a value at a format path; text of an element that also has attributes goes under `#text`. */
function place(node: TreeObject, path: readonly string[], value: TreeValue): void {
  if (path.length === 0) {
    // A flat group (`address` over the record's own members) merges; anything else is the node's text.
    if (isObject(value)) Object.assign(node, value);
    else node[TEXT] = value;
    return;
  }
  let cur = node;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    const next = cur[segment];
    if (isObject(next)) cur = next;
    else {
      const created: TreeObject = next === undefined || next === null ? {} : { [TEXT]: next };
      cur[segment] = created;
      cur = created;
    }
  }
  const last = path[path.length - 1]!;
  const existing = cur[last];
  if (isObject(existing) && !isObject(value) && !Array.isArray(value) && value !== null) existing[TEXT] = value;
  else if (isObject(existing) && isObject(value)) Object.assign(existing, value);
  else cur[last] = value;
}

/** The first code whose assignments all hold of `source`; a plain loop, as this runs for every coded field of every record. */
function firstHolding(codes: NonNullable<CompiledField['codesOut']>, source: unknown): (typeof codes)[number] | undefined {
  next: for (const entry of codes) {
    for (const [path, v] of entry[1]) if (getAt(source, path) !== v) continue next;
    return entry;
  }
  return undefined;
}

function writeField(field: CompiledField, source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[], issues: FieldIssue[]): void {
  if (field.kind === 'const') return;
  const value = field.codesOut ? undefined : getAt(source, field.canonical);

  if (field.kind === 'list') {
    const items = Array.isArray(value) ? (value as unknown[]) : [];
    const written: TreeValue[] = [];
    const where = items.length > 0 ? whereOf(at, field) : [];
    for (let i = 0; i < items.length; i++) {
      const itemNode: TreeObject = {};
      writeFieldsInto(field.children!, items[i], textual, itemNode, [...where, i], issues);
      // An item that is only text (a MID in a list of strings) is written as that text.
      const keys = Object.keys(itemNode);
      written.push(keys.length === 1 && keys[0] === TEXT ? itemNode[TEXT]! : itemNode);
    }
    if (field.split !== undefined) {
      if (written.length > 0) place(node, field.path, written.map(String).join(field.split));
      else if (!textual) place(node, field.path, null);
    } else if (written.length > 0 || !textual) {
      place(node, field.path, written);
    }
    return;
  }
  if (field.kind === 'object') {
    if (value === undefined || value === null) {
      if (!field.optional) problem(issues, at, field, 'required', (where) => `${formatPath(where)} is required`);
      else if (!textual) place(node, field.path, null);
      return;
    }
    const sub: TreeObject = {};
    writeFieldsInto(field.children!, value, textual, sub, whereOf(at, field), issues);
    place(node, field.path, sub);
    return;
  }
  let out: string | number | boolean;
  if (field.codesOut) {
    const match = firstHolding(field.codesOut, source);
    if (!match) {
      const codesOut = field.codesOut;
      if (field.optional && codesOut[0]![1].every(([path]) => getAt(source, path) === undefined)) {
        if (!textual) place(node, field.path, null);
        return;
      }
      const shown = codesOut[0]![1].map(([path]) => `${path.join('.')}=${String(getAt(source, path))}`).join(', ');
      return problem(issues, at, field, 'not-writable', (where) => `${formatPath(where)}: no code of this format stands for ${shown}`);
    }
    out = field.type.write(match[0]);
  } else {
    if (value === undefined || value === null) {
      if (!field.optional) return problem(issues, at, field, 'required', (where) => `${formatPath(where)} is required`);
      if (!textual) place(node, field.path, null);
      return;
    }
    out = field.type.write(value as string | number | boolean);
  }
  place(node, field.path, textual ? String(out) : out);
}

// --- The records, and what is done to them. ---

const formats = loadFormats();
const root = new URL('../../fixtures/', import.meta.url).pathname;

function fixtureRecords(id: string): Operator[] {
  const out: Operator[] = [];
  for (const name of readdirSync(join(root, id))) {
    const dir = join(root, id, name);
    const input = readdirSync(dir).find((f) => f.startsWith('input.'));
    if (!input) continue;
    try {
      out.push(...readDocument(formats.get(id)!, readFileSync(join(dir, input))).batch.records);
    } catch {
      // A fixture of a document that is invalid as a whole has no records.
    }
  }
  return out;
}

const members = readDocument(formats.get('ctpat')!, readFileSync(join(root, 'ctpat/sample/input.ndjson'))).batch.records;

const oddValue = fc.oneof(fc.constant(null), fc.constant(undefined), fc.string({ maxLength: 6 }), fc.constantFrom('', 'active', 'ZZZ', 'EXPORTER', '2026-02-30', 'a&b<c>'), fc.integer(), fc.boolean(), fc.constant({}), fc.constant([]), fc.constant(['X']));

describe.each([...formats.keys()].filter((id) => id !== 'ctpat').concat('ctpat'))('writing a record of %s', (id) => {
  const format = formats.get(id)!;
  const bases = [...fixtureRecords(id), ...(format.mapping.outbound ? members.map((m) => memberToPartnerRecord(format, m)) : [])];

  it('gives the tree and the faults the interpreted walk gave', () => {
    expect(bases.length).toBeGreaterThan(0);
    const edit = fc.tuple(fc.nat(), fc.nat(), oddValue);
    fc.assert(
      fc.property(fc.nat({ max: bases.length - 1 }), fc.array(edit, { maxLength: 4 }), (which, edits) => {
        const record = structuredClone(bases[which]!) as unknown as Record<string, unknown>;
        applyEdits(record, edits);
        for (const textual of [true, false]) {
          const before: TreeObject = {};
          const after: TreeObject = {};
          const previousIssues = previousWriteFields(format.recordFields, record, textual, before);
          const issues = writeFields(format.recordFields, record, textual, after);
          expect(JSON.stringify(after)).toBe(JSON.stringify(before));
          expect(issues).toEqual(previousIssues);
        }
      }),
      { numRuns: 300 },
    );
  });
});
