/** C-TPAT members, as the last import of the C-TPAT export left them, and the MIDs each owns. */
import type { Operator } from '../canonical/operator.ts';
import { chunks } from './chunks.ts';
import type { Queryable } from './db.ts';

/** One member as the import writes it. */
export interface NewCtpatMember {
  account: string;
  /** The canonical record of the member. */
  record: Operator;
  /** C-TPAT status: APPLICANT, CERTIFIED, CERTIFIED_VALIDATED, TIER3, SUSPENDED, REMOVED. */
  status: string;
  consent: boolean;
  mids: string[];
}

/** One member as read back: the parts of its canonical record that status answers use. */
export interface CtpatMemberRow extends Omit<NewCtpatMember, 'record'> {
  record: { name: { legal: string }; address?: Record<string, string>; status: { effective?: string } };
}

/** What the store holds of a member before an import: enough to tell an unchanged one without reading its record. */
export interface HeldCtpatMember {
  status: string;
  consent: boolean;
  /** Digest of the canonical record as last saved; null for a member saved before digests were kept. */
  digest: string | null;
}

/** Every member's status, consent and digest, by account: a few dozen bytes each, so a 20,000-member store reads fast. */
export async function heldCtpatMembers(q: Queryable): Promise<Map<string, HeldCtpatMember>> {
  const { rows } = await q.query<HeldCtpatMember & { account: string }>('select account, status, consent, digest from ctpat_members');
  return new Map(rows.map((r) => [r.account, { status: r.status, consent: r.consent, digest: r.digest }]));
}

/** The canonical records of these members, by account. */
export async function ctpatRecords(q: Queryable, accounts: readonly string[]): Promise<Map<string, Operator>> {
  const out = new Map<string, Operator>();
  for (const part of chunks(accounts)) {
    const { rows } = await q.query<{ account: string; record: Operator }>('select account, record from ctpat_members where account = any($1::text[])', [part]);
    for (const r of rows) out.set(r.account, r.record);
  }
  return out;
}

/**
 * Creates or replaces these members and their MIDs, a thousand to a statement, keeping
 * each replaced record as `previous_record` and marking the rows with the import that
 * wrote them. Only changed members are passed here: unchanged rows are never rewritten.
 */
export async function saveCtpatMembers(tx: Queryable, members: readonly (NewCtpatMember & { digest: string })[], importId: number): Promise<void> {
  for (const part of chunks(members)) {
    const accounts = part.map((m) => m.account);
    await tx.query(
      `insert into ctpat_members (account, record, status, consent, mids, digest, changed_by, imported_at)
       select a, r::jsonb, s, c, array(select jsonb_array_elements_text(m::jsonb)), d, $7, now()
       from unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[]) as t(a, r, s, c, m, d)
       on conflict (account) do update set previous_record = ctpat_members.record, record = excluded.record, status = excluded.status, consent = excluded.consent,
         mids = excluded.mids, digest = excluded.digest, changed_by = excluded.changed_by, imported_at = now()`,
      [accounts, part.map((m) => JSON.stringify(m.record)), part.map((m) => m.status), part.map((m) => m.consent), part.map((m) => JSON.stringify(m.mids)), part.map((m) => m.digest), importId],
    );
    await tx.query('delete from ctpat_mids where account = any($1::text[])', [accounts]);
    const links = part.flatMap((m) => m.mids.map((mid) => [mid, m.account] as const));
    if (links.length > 0) {
      await tx.query('insert into ctpat_mids (mid, account) select m, a from unnest($1::text[], $2::text[]) as t(m, a) on conflict do nothing', [links.map((l) => l[0]), links.map((l) => l[1])]);
    }
  }
}

/** The member with this account number, if any. */
export async function ctpatMember(q: Queryable, account: string): Promise<CtpatMemberRow | undefined> {
  const { rows } = await q.query<CtpatMemberRow>('select account, status, consent, mids, record from ctpat_members where account = $1', [account]);
  return rows[0];
}

/** The members that own these MIDs, by MID, with their C-TPAT status. */
export async function ctpatByMid(q: Queryable, mids: readonly string[]): Promise<Map<string, { account: string; status: string }>> {
  const byMid = new Map<string, { account: string; status: string }>();
  // In chunks: one array of 100,000 MIDs is a parameter the driver builds in one long step.
  for (const part of chunks(mids)) {
    const { rows } = await q.query<{ mid: string; account: string; status: string }>(
      'select l.mid, m.account, m.status from ctpat_mids l join ctpat_members m on m.account = l.account where l.mid = any($1::text[])',
      [part],
    );
    for (const r of rows) byMid.set(r.mid, { account: r.account, status: r.status });
  }
  return byMid;
}

/**
 * Every member as last imported (removed ones included, status revoked), by account: what
 * outbound documents are planned from. In code-unit order of account (collation "C"),
 * the order a document lists them in, so that planning finds them sorted.
 */
export async function allCtpatMembers(q: Queryable): Promise<Map<string, Operator>> {
  const { rows } = await q.query<{ account: string; record: Operator }>('select account, record from ctpat_members order by account collate "C"');
  return new Map(rows.map((r) => [r.account, r.record]));
}
