/**
 * Outbound DELTAs applied in order reproduce the partner's view of a SNAPSHOT (FORMATS.md
 * "Common rules" and "Outbound"): from C-TPAT exports changing over a few imports, the
 * documents the gateway plans for a partner (a SNAPSHOT, then a DELTA after each import,
 * what was delivered carried forward as prepare-outbound.ts stores it) are read back with
 * the partner format's own reader and applied as a receiver does: a SNAPSHOT replaces all,
 * a DELTA record replaces everything held for its key, a withdrawal takes the operator
 * out. The result is what a fresh SNAPSHOT of the last state gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { planDocument, type OutboundPlan, type SentMember } from '../../src/deliver/plan-document.ts';
import type { TreeValue } from '../../src/parse/tree.ts';
import { loadRegistry } from '../../src/registry/load-registry.ts';
import { removedRecord } from '../../src/staff/ctpat-member.ts';
import type { Format } from '../../src/translate/format.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { readFields, type FieldIssue } from '../../src/translate/read-record.ts';

const formats = loadFormats();
const registry = loadRegistry(new URL('../../config/partners', import.meta.url).pathname, new Set(formats.keys()));
const partners = ['CA', 'EU', 'GB', 'JP', 'KR', 'MX'].map((id) => registry.get(id)!);

// --- C-TPAT exports: a few accounts, values that change what partners are sent. ---

const accounts = Array.from({ length: 4 }, (_, i) => `CT-${String(1000001 + i * 7).padStart(7, '0')}`);
const businessTypes = ['IMPORTER', 'EXPORTER', 'HIGHWAY_CARRIER', 'RAIL_CARRIER', 'SEA_CARRIER', 'AIR_CARRIER', 'CONSOLIDATOR', 'CUSTOMS_BROKER', 'MPTO', 'THIRD_PARTY_LOGISTICS', 'FOREIGN_MANUFACTURER', 'MX_LONG_HAUL_CARRIER'];
const date = fc.constantFrom('2012-04-02', '2021-06-01', '2026-08-15', '2026-11-30');
const address = fc.record(
  {
    street: fc.constantFrom('1200 Commerce Dr', 'Calle Industrial 5', 'Main St', '5, Rue & "Co"'),
    city: fc.constantFrom('Toledo', 'Ciudad Juárez', 'Toronto'),
    state: fc.constantFrom('OH', 'CH', 'ON'),
    postalCode: fc.constantFrom('43604', '32000', 'M3J 3K6'),
    country: fc.constantFrom('US', 'MX', 'CA'),
  },
  { requiredKeys: ['street', 'city', 'country'] },
);
/** The fields of one export line but its account number; any may change from one import to the next. */
const fields = {
  businessType: fc.constantFrom(...businessTypes),
  legalName: fc.constantFrom('Great Lakes Outdoor Supply LLC', 'Érablière Laurentienne Ltée', 'Smith, Jones & "Sons" <Ltd>', '株式会社さくら'),
  dba: fc.option(fc.constantFrom('GLOS', 'Maple, Ridge'), { nil: undefined }),
  address: fc.option(address, { nil: undefined, freq: 6 }),
  status: fc.constantFrom<string>('CERTIFIED', 'CERTIFIED_VALIDATED', 'TIER3', 'TIER3', 'SUSPENDED', 'APPLICANT'),
  statusDate: fc.option(date, { nil: undefined, freq: 8 }),
  certifiedOn: fc.option(date, { nil: undefined }),
  consentToShare: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  mids: fc.subarray(['MXMAQFRO5CIU', 'XOERALAU4500TOR', 'GBTHAVAL45REA']),
  scac: fc.option(fc.constantFrom('BRFL', 'ABCD'), { nil: undefined }),
};
type Line = { [K in keyof typeof fields]: (typeof fields)[K] extends fc.Arbitrary<infer T> ? T : never };
const line = fc.record(fields);
const patch = fc.record(fields, { requiredKeys: [] }).filter((p) => Object.keys(p).length > 0);

/** One edit of the export between two imports. */
type Edit = { add: number; line: Line } | { change: number; patch: Partial<Line> } | { status: number; to: 'SUSPENDED' | 'REMOVED' } | { consent: number; to: boolean } | { remove: number } | { restore: number };
const account = fc.nat({ max: accounts.length - 1 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ add: account, line }),
  fc.record({ change: account, patch }),
  fc.record({ status: account, to: fc.constantFrom('SUSPENDED' as const, 'REMOVED' as const) }),
  fc.record({ consent: account, to: fc.boolean() }),
  fc.record({ remove: account }),
  // A member back as the first export had it: a partner told that text before must still get it if it lost it since.
  fc.record({ restore: account }),
);

type Export = ReadonlyMap<string, Line>;

function applyEdits(before: Export, edits: readonly Edit[], first: Export): Export {
  const after = new Map(before);
  for (const e of edits) {
    if ('add' in e) after.set(accounts[e.add]!, e.line);
    else if ('remove' in e) after.delete(accounts[e.remove]!);
    else if ('restore' in e) {
      const was = first.get(accounts[e.restore]!);
      if (was === undefined) after.delete(accounts[e.restore]!);
      else after.set(accounts[e.restore]!, was);
    }
    else {
      const key = accounts['change' in e ? e.change : 'status' in e ? e.status : e.consent]!;
      const held = after.get(key);
      if (held === undefined) continue;
      after.set(key, { ...held, ...('change' in e ? e.patch : 'status' in e ? { status: e.to } : { consentToShare: e.to }) });
    }
  }
  return after;
}

/**
 * The C-TPAT members after importing `exported` as of `today` (ctpat-import.ts): each
 * line read by the export's reader; a member held before and absent now is REMOVED as of
 * the import, one removed already stays as it was.
 */
function imported(exported: Export, held: ReadonlyMap<string, Operator>, today: string): Map<string, Operator> {
  const ndjson = [...exported].map(([accountNumber, l]) => JSON.stringify({ accountNumber, ...l, identifiers: { mids: l.mids, scac: l.scac ?? null }, mids: undefined, scac: undefined })).join('\n');
  const read = readDocument(formats.get('ctpat')!, `${ndjson}\n`);
  expect(read.rejections).toEqual([]);
  const members = new Map(read.batch.records.map((m) => [m.key, m]));
  for (const [key, member] of held) if (!members.has(key)) members.set(key, member.status.code === 'revoked' ? member : removedRecord(member, today));
  return new Map([...members].sort(([a], [b]) => (a < b ? -1 : 1)));
}

// --- The partner's side. ---

/** What a receiver holds: each operator's record, as its format's reader gives the record's tree. */
type View = Map<string, TreeValue>;

/**
 * A document as the partner's reader sees it. The partner's identifier rules (EORI, RFC,
 * …) and address rules are left unchecked: FORMATS.md says they do not apply to U.S.
 * records on the way out, so the format's reader would reject each record on them. The
 * record's tree is what the receiver holds; its status and consent, read by the mapping,
 * say whether it is a withdrawal (consent false for EU, GB, MX; REVOKED for JP, KR, CA).
 */
function readBack(format: Format, body: Buffer): { kind: string; sequence: number; records: { key: string; tree: TreeValue; withdrawn: boolean }[] } {
  const records: { key: string; tree: TreeValue; withdrawn: boolean }[] = [];
  const keyPath = format.recordFields.find((f) => f.canonical.join('.') === 'key')!.path;
  const reader = format.reader(({ node, faults }) => {
    expect(faults).toBeUndefined();
    const out: Record<string, unknown> = {};
    const issues: FieldIssue[] = [];
    readFields(format.recordFields, node, format.textual, out, issues);
    // Only the partner's own identifier, code and address rules may fail: the status and consent read.
    expect(issues.filter((i) => /status|consent|Estatus|Consentimiento/i.test(i.path.join('.')))).toEqual([]);
    const key = keyPath.reduce<TreeValue | undefined>((at, name) => (at as Record<string, TreeValue> | undefined)?.[name], node);
    expect(key).toMatch(/^US-CTPAT-CT-\d{7}$/);
    const { status, consent } = out as Partial<Operator>;
    records.push({ key: key as string, tree: node, withdrawn: consent?.given === false || status?.code === 'revoked' });
  });
  reader.write(body);
  const tree = reader.end();
  const envelope: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  readFields(format.envelopeFields, tree.envelope, format.textual, envelope, issues);
  expect(issues).toEqual([]);
  expect(envelope['count']).toBe(records.length);
  return { kind: envelope['kind'] as string, sequence: envelope['sequence'] as number, records };
}

/** The receiver applies a document (FORMATS.md): a SNAPSHOT replaces all; a DELTA record replaces what is held for its key; a withdrawal removes it. */
function receive(view: View, read: ReturnType<typeof readBack>): View {
  const next: View = read.kind === 'SNAPSHOT' ? new Map() : new Map(view);
  for (const r of read.records) {
    if (r.withdrawn) next.delete(r.key);
    else next.set(r.key, r.tree);
  }
  return next;
}

const sorted = (view: View) => Object.fromEntries([...view].sort(([a], [b]) => (a < b ? -1 : 1)));

describe.each(partners)('outbound documents to $id', (partner) => {
  const format = formats.get(partner.format)!;
  const options = (kind: 'SNAPSHOT' | 'DELTA', sequence: number, today: string) => ({
    gatewayId: 'US-CBP-TEST',
    partnerId: partner.id,
    kind,
    sequence,
    batchId: `B${sequence}`,
    asOf: `${today}T02:00:00Z`,
    today,
    businessTypes: partner.mra?.outboundBusinessTypes,
  });

  it('a SNAPSHOT and then each DELTA applied in order give what a fresh SNAPSHOT of the last state gives', async () => {
    const initial = fc.uniqueArray(fc.tuple(account, line), { selector: ([a]) => a, maxLength: accounts.length }).map((lines) => new Map(lines.map(([a, l]) => [accounts[a]!, l])));
    // Each import's edits, and now and then a SNAPSHOT asked for instead of the DELTA (staff resending all).
    const step = fc.record({ edits: fc.array(edit, { minLength: 1, maxLength: 3 }), snapshot: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }) });
    await fc.assert(
      fc.asyncProperty(initial, fc.array(step, { minLength: 1, maxLength: 4 }), async (first, imports) => {
        let exported: Export = first;
        let members = imported(exported, new Map(), '2026-12-01');
        // What the partner was told of each member (outbound_members), and the last sequence used.
        const sent = new Map<string, SentMember>();
        let sequence = 0;
        let view: View = new Map();
        /**
         * Operators whose last change the partner could not be sent: a member its format cannot
         * write (or whose withdrawal it cannot write) is left out and reported (FORMATS.md), so
         * the partner keeps the record it had, where a SNAPSHOT would drop it. Not compared
         * until a document carries them again or a SNAPSHOT replaces all.
         */
        const stale = new Set<string>();
        const deliver = (plan: OutboundPlan | undefined, kind: 'SNAPSHOT' | 'DELTA') => {
          if (kind === 'DELTA') for (const u of plan?.unwritable ?? []) if (view.has(`US-CTPAT-${u.account}`)) stale.add(`US-CTPAT-${u.account}`);
          // prepare-outbound.ts: no document, nothing stored, the sequence not used.
          if (!plan?.document) return;
          sequence++;
          for (const c of plan.document.carried) sent.set(c.account, { digest: c.digest, withdrawn: c.as === 'withdrawn' });
          for (const account of plan.omitted) if (sent.has(account)) sent.set(account, { ...sent.get(account)!, withdrawn: true });
          const read = readBack(format, plan.document.body);
          expect([read.kind, read.sequence]).toEqual([kind, sequence]);
          if (kind === 'SNAPSHOT') stale.clear();
          for (const r of read.records) stale.delete(r.key);
          view = receive(view, read);
        };

        deliver(await planDocument(format, members, sent, options('SNAPSHOT', sequence + 1, '2026-12-01')), 'SNAPSHOT');
        for (const [i, { edits, snapshot }] of imports.entries()) {
          const today = `2026-12-${String(i + 2).padStart(2, '0')}`;
          exported = applyEdits(exported, edits, first);
          members = imported(exported, members, today);
          const kind = snapshot ? 'SNAPSHOT' : 'DELTA';
          deliver(await planDocument(format, members, sent, options(kind, sequence + 1, today)), kind);
        }

        const fresh = await planDocument(format, members, new Map(), options('SNAPSHOT', 1, '2026-12-09'));
        const expected = fresh?.document ? receive(new Map(), readBack(format, fresh.document.body)) : new Map();
        for (const key of stale) {
          view.delete(key);
          expected.delete(key);
        }
        expect(sorted(view)).toEqual(sorted(expected));
      }),
      { numRuns: 150 },
    );
  });

  it('a member left out of a SNAPSHOT because it cannot be written is sent again once mended, even as it was before', async () => {
    const whole: Line = { businessType: 'EXPORTER', legalName: 'Great Lakes Outdoor Supply LLC', dba: undefined, address: { street: '1200 Commerce Dr', city: 'Toledo', state: 'OH', postalCode: '43604', country: 'US' }, status: 'TIER3', statusDate: '2021-06-01', certifiedOn: '2012-04-02', consentToShare: true, mids: [], scac: 'BRFL' };
    // Without a status date no format can write the member (FORMATS.md: nothing is invented).
    const broken: Line = { ...whole, statusDate: undefined };
    const sent = new Map<string, SentMember>();
    const told = (plan: OutboundPlan | undefined) => {
      for (const c of plan!.document!.carried) sent.set(c.account, { digest: c.digest, withdrawn: c.as === 'withdrawn' });
      for (const a of plan!.omitted) sent.set(a, { ...sent.get(a)!, withdrawn: true });
    };
    const first = await planDocument(format, imported(new Map([[accounts[0]!, whole]]), new Map(), '2026-12-01'), sent, options('SNAPSHOT', 1, '2026-12-01'));
    told(first);
    const resent = await planDocument(format, imported(new Map([[accounts[0]!, broken]]), new Map(), '2026-12-02'), sent, options('SNAPSHOT', 2, '2026-12-02'));
    expect([resent!.document!.carried, resent!.unwritable.map((u) => u.account)]).toEqual([[], [accounts[0]]]);
    told(resent);
    // The partner dropped it with that SNAPSHOT: the DELTA after the mend must carry it, though its text is what the first SNAPSHOT told.
    const delta = await planDocument(format, imported(new Map([[accounts[0]!, whole]]), new Map(), '2026-12-03'), sent, options('DELTA', 3, '2026-12-03'));
    expect(delta?.document?.carried).toEqual([first!.document!.carried[0]]);
  });
});
