/**
 * The C-TPAT import over the staff API and `mragw staff import-ctpat`, on real
 * PostgreSQL: each import says what changed since the one before it, writes only what
 * changed, and is logged.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.ts';
import type { CtpatImportAnswer } from '../../src/staff/ctpat-import.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { runCli } from '../support/run-cli.ts';

let gw: TestGateway;
let token: string;
const dir = mkdtempSync(join(tmpdir(), 'mragw-ctpat-'));

type Line = Record<string, unknown>;
const line = (n: number, over: Line = {}): Line => ({
  accountNumber: `CT-${String(n).padStart(5, '0')}`,
  businessType: 'EXPORTER',
  legalName: `Member ${n} LLC`,
  address: { street: `${n} Commerce Dr`, city: 'Toledo', state: 'OH', postalCode: '43604', country: 'US' },
  status: 'CERTIFIED',
  statusDate: '2024-01-01',
  consentToShare: true,
  identifiers: { mids: [`USMEM${n}TOL`], scac: null },
  ...over,
});
const ndjson = (lines: (Line | string)[], eol = '\n') => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join(eol) + eol;
const acct = (n: number) => `CT-${String(n).padStart(5, '0')}`;

async function upload(body: string): Promise<CtpatImportAnswer> {
  const response = await fetch(`${gw.url}/v1/ctpat/members`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson' }, body });
  expect(response.status).toBe(200);
  return (await response.json()) as CtpatImportAnswer;
}

const writtenAt = async () => new Map((await gw.gateway.db.query<{ account: string; at: string }>('select account, imported_at::text as at from ctpat_members')).rows.map((r) => [r.account, r.at]));

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' } });
  token = await mintDevStaffToken(gw.dataDir, { subject: 'officer.ruiz', roles: ['admin'], ttlSeconds: 600 });
});
afterAll(async () => {
  await gw?.close();
});

describe('what changed since the last import', () => {
  const first = [...Array.from({ length: 10 }, (_, i) => line(i + 1)), line(12)];

  it('the first import: every member is new', async () => {
    const answer = await upload(ndjson(first));
    expect(answer).toMatchObject({ imported: 11, rejectedLines: 0, rejected: [], added: { count: 11, items: first.map((l) => l['accountNumber']) }, changed: { count: 0 }, noLongerSendable: { count: 0 }, removed: { count: 0 }, unchanged: 0 });
  });

  it('the same file again: nothing changed and no row rewritten', async () => {
    const before = await writtenAt();
    const answer = await upload(ndjson(first));
    expect(answer).toMatchObject({ imported: 11, added: { count: 0 }, changed: { count: 0 }, noLongerSendable: { count: 0 }, removed: { count: 0 }, unchanged: 11 });
    expect(await writtenAt()).toEqual(before);
  });

  it('one change of each kind, consent withdrawn, back to APPLICANT, one absent, a bad line and a duplicate account: exactly those, with line numbers (CRLF)', async () => {
    const before = await writtenAt();
    const lines: (Line | string)[] = [
      line(1, { status: 'SUSPENDED' }), // 1: status
      line(2, { legalName: 'Renamed Two LLC' }), // 2: name
      line(3, { address: { street: '3 Harbor Rd', city: 'Toledo', state: 'OH', postalCode: '43604', country: 'US' } }), // 3: address
      line(4, { identifiers: { mids: ['USMEM4TOL', 'USNEWMID4'], scac: null } }), // 4: MIDs
      line(5, { businessType: 'IMPORTER' }), // 5: business type
      line(6, { consentToShare: false }), // 6: consent withdrawn
      line(7, { status: 'APPLICANT' }), // 7: back to APPLICANT
      // 8 is absent
      line(9, { status: 'NOT_A_STATUS' }), // 8: bad line (member 9 stays, unchanged)
      line(10), // 9: duplicate account
      line(10, { legalName: 'Ten Again' }), // 10: duplicate account
      line(11), // 11: new
      // 12: the same member with its keys in another order: unchanged
      JSON.stringify(Object.fromEntries(Object.entries(line(12)).reverse())),
    ];
    const answer = await upload(ndjson(lines, '\r\n'));
    expect(answer.rejectedLines).toBe(3);
    expect(answer.rejected.map((r) => ({ line: r.line, key: r.key, field: r.field }))).toEqual([
      { line: 8, key: acct(9), field: 'status' },
      { line: 9, key: acct(10), field: '(record)' },
      { line: 10, key: acct(10), field: '(record)' },
    ]);
    expect(answer.rejected[0]!.message).toContain('NOT_A_STATUS');
    expect(answer.added).toEqual({ count: 1, items: [acct(11)] });
    expect(answer.changed).toEqual({
      count: 7,
      items: [
        { account: acct(1), fields: ['status'] },
        { account: acct(2), fields: ['name'] },
        { account: acct(3), fields: ['address'] },
        { account: acct(4), fields: ['mids'] },
        { account: acct(5), fields: ['businessType'] },
        { account: acct(6), fields: ['consent'] },
        { account: acct(7), fields: ['status'] },
      ],
    });
    expect(answer.noLongerSendable).toEqual({ count: 2, items: [{ account: acct(6), reasons: ['consent-withdrawn'] }, { account: acct(7), reasons: ['back-to-applicant'] }] });
    expect(answer.removed).toEqual({ count: 1, items: [acct(8)] });
    expect(answer.unchanged).toBe(1);

    // Only the changed, removed and new rows were written; the rejected ones were left alone.
    const after = await writtenAt();
    const rewritten = [...after].filter(([a, at]) => before.get(a) !== at).map(([a]) => a).sort();
    expect(rewritten).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 11].map(acct));
    // The previous record is kept beside the new one.
    const { rows } = await gw.gateway.db.query<{ status: string; record: { status: { code: string; effective: string } }; previous_record: { name: { legal: string } } }>(
      'select status, record, previous_record from ctpat_members where account = any($1::text[]) order by account',
      [[acct(2), acct(8)]],
    );
    expect(rows[0]!.previous_record.name.legal).toBe('Member 2 LLC');
    expect(rows[1]).toMatchObject({ status: 'REMOVED', record: { status: { code: 'revoked', effective: answer.importDate } } });
    expect((await gw.gateway.db.query('select mid from ctpat_mids where account = $1 order by mid', [acct(4)])).rows).toEqual([{ mid: 'USMEM4TOL' }, { mid: 'USNEWMID4' }]);
  });

  it('each import is logged with who, the counts and the lists, and in the audit log', async () => {
    const { rows } = await gw.gateway.db.query<{ actor: string; added: number; changed: number; removed: number; summary: { removed: string[] } }>('select actor, added, changed, removed, summary from ctpat_imports order by id');
    expect(rows.map((r) => [r.actor, r.added, r.changed, r.removed])).toEqual([['officer.ruiz', 11, 0, 0], ['officer.ruiz', 0, 0, 0], ['officer.ruiz', 1, 7, 1]]);
    expect(rows[2]!.summary.removed).toEqual([acct(8)]);
    const audit = await gw.gateway.db.query<{ actor: string; subject: string }>("select actor, subject from audit_log where action = 'import-ctpat' order by id");
    expect(audit.rows).toHaveLength(3);
    const listed = (await (await fetch(`${gw.url}/v1/ctpat/imports?limit=2`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { imports: { id: number; changed: number }[] };
    expect(listed.imports.map((i) => i.changed)).toEqual([7, 0]);
  });

  it('20,000 members, then 1% of them changed: exactly that 1%, capped lists with the whole count', async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => line(100 + i));
    await upload(ndjson(big));
    const changedNs = new Set(Array.from({ length: 200 }, (_, i) => 100 + i * 100));
    const before = await writtenAt();
    const answer = await upload(ndjson(big.map((l, i) => (changedNs.has(100 + i) ? { ...l, legalName: `${String(l['legalName'])} (renamed)` } : l))));
    expect(answer).toMatchObject({ imported: 20_000, added: { count: 0 }, removed: { count: 0 }, noLongerSendable: { count: 0 }, unchanged: 19_800 });
    expect(answer.changed.count).toBe(200);
    expect(answer.changed.items).toHaveLength(100);
    expect(answer.changed.items.every((c) => changedNs.has(Number(c.account.slice(3))) && c.fields.join() === 'name')).toBe(true);
    const after = await writtenAt();
    expect([...after].filter(([a, at]) => before.get(a) !== at)).toHaveLength(200);
  }, 120_000);
});

describe('mragw staff import-ctpat', () => {
  it('prints the answer as JSON and nothing else off a terminal', async () => {
    const file = join(dir, 'members.ndjson');
    writeFileSync(file, ndjson([line(1)]));
    const result = await runCli(['staff', 'import-ctpat', file, '--url', gw.url, '--token', token]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const answer = JSON.parse(result.stdout) as CtpatImportAnswer;
    // Member 1 was left out of the 20,000-member files, hence REMOVED as of that date: back now, with its own status and date.
    expect(answer.changed.items).toEqual([{ account: acct(1), fields: ['status', 'statusDate'] }]);
  });

  it('on a terminal, draws the upload on standard error and leaves a one-line summary', async () => {
    const file = join(dir, 'members-tty.ndjson');
    writeFileSync(file, ndjson([line(1), line(2)]));
    let stdout = '';
    let stderr = '';
    const status = await run(['staff', 'import-ctpat', file, '--url', gw.url, '--token', token], {
      stdin: Readable.from([]),
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: true },
      env: {},
    });
    expect(status).toBe(0);
    expect(stderr).toContain('uploading');
    expect(stderr).toMatch(/import \d+ as of \d{4}-\d{2}-\d{2}: 2 lines imported, 0 rejected; 0 new, 1 changed, 0 no longer sendable abroad, \d+ removed, 1 unchanged\n/);
    expect(JSON.parse(stdout)).toHaveProperty('importId');
  });
});
