/**
 * A record's text from the function generated for its format (record-text.ts) is the
 * text of the tree's way (writeFields, then the syntax's writer), byte for byte, for
 * partner records with values of every kind in every place; where the generated function
 * gives no text, the tree's way finds a fault or the record takes the tree's way whole.
 * And a planned document is the document writeDocument makes of the same records.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { planDocument } from '../../src/deliver/plan-document.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { eligibleMember, memberToPartnerRecord, memberToPartnerRecordSharing, withdrawalRecord } from '../../src/translate/outbound.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { memberTextOf, recordTextOf } from '../../src/translate/record-text.ts';
import { asText, DocumentWriter, writeDocument } from '../../src/translate/write-document.ts';
import { writeFields } from '../../src/translate/write-record.ts';
import { applyEdits } from '../support/record-edits.ts';

const formats = loadFormats();
const members = readDocument(formats.get('ctpat')!, readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records;
const outboundIds = ['ca-pip', 'eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'mx-oea'];

// Text that each syntax must escape or quote, and text it must not touch.
const awkwardText = fc.constantFrom('', 'a&b<c>d', 'x"y\'z', 'line\nbreak', 'cr\rhere', 'tab\there', 'comma, here', 'é ü 漢字', 'lone \ud800 half', '😀', 'back\\slash', '\u0001', ']]>', 'S/N', '12 Main St');
const value = fc.oneof(
  awkwardText,
  fc.string({ maxLength: 6 }),
  fc.constantFrom(null, undefined, true, false, 0, 7, -1.5, Number.NaN),
  fc.constantFrom('active', 'suspended', 'revoked', 'CTPAT', 'EXPORTER', 'IMPORTER_EXPORTER', 'LOGISTICS', 'AUTOTRANSPORTISTA', 'HIGHWAY_CARRIER', 'AAA', 'ctpat', 'eori', '2026-11-30', 'MXMAQFRO5CIU'),
  fc.constant({}),
  fc.constant([]),
  fc.constant(['MXMAQFRO5CIU', 'x|y']),
  fc.constant([{ mid: 'MXMAQFRO5CIU', registeredVia: 'a"b', validFrom: '2020-01-01' }, { mid: 'x<y' }]),
  fc.constant({ street: '1 A St', city: 'X' }),
);

/** Members every format knows somewhere, that the sample members lack: each run adds some. */
const extras: [string[], unknown][] = [
  [['status', 'history'], [{ code: 'active', effective: '2020-01-01', reason: 'first & only' }, { code: 'suspended', effective: '2021-02-03' }]],
  [['consent', 'withdrawnOn'], '2026-11-30'],
  [['mids'], [{ mid: 'MXMAQFRO5CIU', registeredVia: 'CBP', validFrom: '2020-01-01', validTo: '2030-01-01' }, { mid: 'CAXYZ123ABC' }]],
  [['name', 'local'], '大阪物産株式会社'],
  [['name', 'trading'], null],
  [['carrier'], { code: 'ABCD', permit: 'SCT-1' }],
  [['address', 'number'], '5'],
  [['address', 'district'], 'Centro'],
  [['authorisation', 'level'], 'AA'],
  [['authorisation', 'renewedOn'], '2025-05-05'],
  [['authorisation', 'issuingAuthority'], 'DE001'],
  [['identifier', 'scheme'], 'eori'],
];

function setPath(record: Record<string, unknown>, path: string[], v: unknown): void {
  let cur = record;
  for (const segment of path.slice(0, -1)) {
    if (typeof cur[segment] !== 'object' || cur[segment] === null) cur[segment] = {};
    cur = cur[segment] as Record<string, unknown>;
  }
  cur[path.at(-1)!] = structuredClone(v);
}

/** A partner record of `format` from a sample member, with some extras and some random edits. */
const partnerRecord = (formatId: string) =>
  fc.tuple(fc.nat({ max: members.length - 1 }), fc.subarray(extras), fc.array(fc.tuple(fc.nat(), fc.nat(), value), { maxLength: 4 })).map(([which, added, edits]) => {
    const record = memberToPartnerRecord(formats.get(formatId)!, members[which]!) as unknown as Record<string, unknown>;
    for (const [path, v] of added) setPath(record, path, v);
    applyEdits(record, edits);
    return record;
  });

/** The tree's way: the text writeDocument gives the record, or undefined for a record it leaves out. */
function treeText(formatId: string, record: unknown): string | undefined {
  const format = formats.get(formatId)!;
  const node = {};
  if (writeFields(format.recordFields, record, format.textual, node).length > 0) return undefined;
  return format.writer.text(node);
}

describe.each(outboundIds)('the generated writer of %s', (id) => {
  const format = formats.get(id)!;
  const generated = recordTextOf(format)!;

  it('exists: the format needs nothing it does not follow', () => {
    expect(generated).toBeTypeOf('function');
  });

  it('writes every record the tree’s way writes, byte for byte, or leaves it to the tree’s way', () => {
    let written = 0;
    fc.assert(
      fc.property(partnerRecord(id), (record) => {
        const text = generated(record);
        if (text !== undefined) {
          written++;
          expect(text).toBe(treeText(id, record));
        }
      }),
      { numRuns: 1500 },
    );
    // Most records write cleanly: the generated way is the one taken, not a fallback everywhere.
    expect(written).toBeGreaterThan(300);
  });

  it('writes the sample members as the tree’s way does', () => {
    for (const member of members) {
      const record = memberToPartnerRecord(format, member);
      const tree = treeText(id, record);
      if (tree !== undefined) expect(generated(record)).toBe(tree);
    }
  });
});

describe.each(outboundIds)('a planned %s SNAPSHOT', (id) => {
  const format = formats.get(id)!;

  it('is the document writeDocument makes of the eligible members’ records, faults and all', async () => {
    const member = fc.tuple(fc.nat({ max: members.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat(), value), { maxLength: 3 })).map(([which, edits]) => {
      const m = structuredClone(members[which]!) as unknown as Record<string, unknown>;
      applyEdits(m, edits);
      return m as unknown as Operator;
    });
    await fc.assert(
      fc.asyncProperty(fc.array(member, { maxLength: 8 }), async (list) => {
        const byAccount = new Map<string, Operator>();
        list.forEach((m, i) => {
          // Distinct accounts, in no particular order.
          const key = `CT-${String((i * 7919) % 1000).padStart(7, '0')}`;
          byAccount.set(key, { ...m, key });
        });
        const envelope = { sender: 'US-CBP-TEST', receiver: format.partner!, batchId: 'B1', sequence: 1, kind: 'SNAPSHOT' as const, asOf: '2026-11-30T02:00:00Z', count: 0 };
        let plan;
        try {
          plan = await planDocument(format, byAccount, new Map(), { gatewayId: envelope.sender, partnerId: envelope.receiver, kind: 'SNAPSHOT', sequence: 1, batchId: 'B1', asOf: envelope.asOf, today: '2026-11-30', businessTypes: undefined });
        } catch {
          return; // a member too broken for the outbound rules fails the plan as it did before
        }
        const sorted = [...byAccount].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, m]) => m);
        const eligible = sorted.filter((m) => eligibleMember(m) && m.status?.code !== 'revoked');
        const oracle = writeDocument(format, { envelope, records: eligible.map((m) => memberToPartnerRecord(format, m)) });
        // Bytes against bytes: a lone surrogate is not text UTF-8 can give back.
        expect(plan!.document!.body.equals(Buffer.from(oracle.text, 'utf8'))).toBe(true);
        expect(plan!.unwritable.map(({ account: _, ...p }) => p)).toEqual(oracle.problems);
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(outboundIds)('a planned %s DELTA', (id) => {
  const format = formats.get(id)!;
  const edited = (m: Operator, edits: [number, number, unknown][]) => {
    const copy = structuredClone(m) as unknown as Record<string, unknown>;
    applyEdits(copy, edits);
    return copy as unknown as Operator;
  };
  const edits = fc.array(fc.tuple(fc.nat(), fc.nat(), value), { maxLength: 2 });

  it('carries the records whose text changed, then the withdrawals: writeDocument’s document of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: members.length - 1 }), edits, fc.boolean(), edits), { minLength: 1, maxLength: 8 }), async (list) => {
        const account = (i: number) => `CT-${String((i * 7919) % 1000).padStart(7, '0')}`;
        const first = new Map(list.map(([which, e], i) => [account(i), { ...edited(members[which]!, e), key: account(i) }]));
        // Some members change again (or not at all) before the DELTA.
        const next = new Map(list.map(([, , change, e], i) => [account(i), change ? { ...edited(first.get(account(i))!, e), key: account(i) } : first.get(account(i))!]));
        const options = { gatewayId: 'US-CBP-TEST', partnerId: format.partner!, sequence: 1, batchId: 'B1', asOf: '2026-11-30T02:00:00Z', today: '2026-11-30', businessTypes: undefined };
        let snapshot, delta;
        try {
          snapshot = (await planDocument(format, first, new Map(), { ...options, kind: 'SNAPSHOT' }))!;
          const told = new Map(snapshot.document!.carried.map((c) => [c.account, { digest: c.digest, withdrawn: c.as === 'withdrawn' }]));
          delta = await planDocument(format, next, told, { ...options, kind: 'DELTA', sequence: 2, batchId: 'B2' });
        } catch {
          return; // a member too broken for the outbound rules
        }
        const toldAccounts = new Set(snapshot.document!.carried.map((c) => c.account));
        const eligibleNow = (m: Operator) => eligibleMember(m) && m.status?.code !== 'revoked';
        const records: Operator[] = [];
        const withdrawals: Operator[] = [];
        for (const key of [...next.keys()].sort()) {
          const now = next.get(key)!;
          if (eligibleNow(now)) {
            const record = memberToPartnerRecord(format, now);
            // A record breaking one of the mapping's rules is not written: tried again, and reported.
            const text = format.rules.every((rule) => rule(record) === undefined) ? treeText(id, record) : undefined;
            if (toldAccounts.has(key) && text !== undefined && text === treeText(id, memberToPartnerRecord(format, first.get(key)!))) continue;
            records.push(memberToPartnerRecord(format, now));
          } else if (toldAccounts.has(key)) withdrawals.push(withdrawalRecord(format, memberToPartnerRecord(format, now), '2026-11-30'));
        }
        const all = [...records, ...withdrawals];
        if (all.length === 0) {
          expect(delta).toBeUndefined();
          return;
        }
        const oracle = writeDocument(format, { envelope: { sender: options.gatewayId, receiver: options.partnerId, batchId: 'B2', sequence: 2, kind: 'DELTA', asOf: options.asOf, count: 0 }, records: all });
        expect(delta!.unwritable.map(({ account: _, ...p }) => p)).toEqual(oracle.problems);
        if (oracle.written === 0) {
          expect(delta!.document).toBeUndefined();
          return;
        }
        expect(delta!.document!.body.equals(Buffer.from(oracle.text, 'utf8'))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe.each(outboundIds)('the %s writer from members', (id) => {
  const format = formats.get(id)!;
  const fromMember = memberTextOf(format)!;
  // Member values the outbound rules and the mapping's rules turn on.
  const memberExtras = fc.record(
    {
      category: fc.constantFrom('HIGHWAY_CARRIER', 'SEA_CARRIER', 'RAIL_CARRIER', 'IMPORTER', 'EXPORTER', 'MPTO', 'FOREIGN_MANUFACTURER', 'CUSTOMS_BROKER', 'UNKNOWN', 'constructor'),
      level: fc.constantFrom('CERTIFIED', 'CERTIFIED_VALIDATED', 'TIER3', 'OTHER'),
      carrier: fc.constantFrom(undefined, null, {}, { code: 'BRFL' }, { code: 'brfl' }, { code: 'AB1' }, { code: 'ABCD', permit: 'SCT-1' }, 'x'),
      mids: fc.constantFrom([], [{ mid: 'MXMAQFRO5CIU' }], [{ mid: 'A', registeredVia: 'x' }, 'B'], null, 'x'),
      street: fc.constantFrom('1200 Commerce Dr', 'Calle Industrial 5', 'Main St', '5, Rue & Co', ''),
      grantedOn: fc.constantFrom(undefined, '2012-04-02', 'bad'),
    },
    { requiredKeys: [] },
  );
  const member = fc.tuple(fc.nat({ max: members.length - 1 }), memberExtras, fc.array(fc.tuple(fc.nat(), fc.nat(), value), { maxLength: 3 })).map(([which, extra, edits]) => {
    const m = structuredClone(members[which]!) as unknown as Record<string, unknown>;
    if ('category' in extra) setPath(m, ['authorisation', 'category'], extra.category);
    if ('level' in extra) setPath(m, ['authorisation', 'level'], extra.level);
    if ('carrier' in extra) m['carrier'] = structuredClone(extra.carrier);
    if ('mids' in extra) m['mids'] = structuredClone(extra.mids);
    if ('street' in extra) setPath(m, ['address', 'street'], extra.street);
    if ('grantedOn' in extra) setPath(m, ['authorisation', 'grantedOn'], extra.grantedOn);
    applyEdits(m, edits);
    return m as unknown as Operator;
  });

  it('writes what the partner record’s way writes (rules checked), or leaves the member to it', () => {
    let written = 0;
    fc.assert(
      fc.property(member, (m) => {
        let expected: string | undefined | Error;
        try {
          expected = new DocumentWriter(format, asText()).textOf(memberToPartnerRecordSharing(format, m));
        } catch (error) {
          expected = error as Error;
        }
        let text: string | undefined | Error;
        try {
          text = fromMember(m);
        } catch (error) {
          text = error as Error;
        }
        // No text: the caller takes the record's way, failing or not as it does.
        if (text === undefined) return;
        if (expected instanceof Error) return void expect(text).toBeInstanceOf(Error);
        written++;
        expect(text).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    expect(written).toBeGreaterThan(200);
  });
});

describe('text written from members', () => {
  // v8.serialize tags a string held one byte per character with '"' (34), two with 'c', after a padding byte if any.
  const oneBytePerCharacter = (text: string) => v8.serialize(text)[2] === 34;

  it.each(outboundIds)('is held one byte per character in %s, though the mapping file has characters beyond Latin-1', (id) => {
    const format = formats.get(id)!;
    for (const member of members) {
      const text = memberTextOf(format)!(member);
      if (text !== undefined) expect(oneBytePerCharacter(text)).toBe(true);
    }
  });
});
