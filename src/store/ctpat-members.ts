/** C-TPAT members, as the last import of the C-TPAT export left them, and the MIDs each owns. */
import type { Operator } from '../canonical/operator.ts';
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

/** Creates or replaces a member and its MIDs. */
export async function saveCtpatMember(tx: Queryable, member: NewCtpatMember): Promise<void> {
  await tx.query(
    `insert into ctpat_members (account, record, status, consent, mids, imported_at) values ($1, $2, $3, $4, $5, now())
     on conflict (account) do update set record = excluded.record, status = excluded.status, consent = excluded.consent, mids = excluded.mids, imported_at = now()`,
    [member.account, JSON.stringify(member.record), member.status, member.consent, member.mids],
  );
  await tx.query('delete from ctpat_mids where account = $1', [member.account]);
  for (const mid of member.mids) await tx.query('insert into ctpat_mids (mid, account) values ($1, $2) on conflict do nothing', [mid, member.account]);
}

/** Marks REMOVED, as of `date`, every member not yet removed whose account is not in `present`; returns their accounts. */
export async function removeMembersNotIn(tx: Queryable, present: readonly string[], date: string): Promise<string[]> {
  const { rows } = await tx.query<{ account: string }>(
    `update ctpat_members set status = 'REMOVED', record = jsonb_set(jsonb_set(record, '{status,code}', '"revoked"'), '{status,effective}', to_jsonb($2::text))
     where status <> 'REMOVED' and not (account = any($1::text[])) returning account`,
    [present, date],
  );
  return rows.map((r) => r.account);
}

/** The member with this account number, if any. */
export async function ctpatMember(q: Queryable, account: string): Promise<CtpatMemberRow | undefined> {
  const { rows } = await q.query<CtpatMemberRow>('select account, status, consent, mids, record from ctpat_members where account = $1', [account]);
  return rows[0];
}

/** The members that own these MIDs, by MID, with their C-TPAT status. */
export async function ctpatByMid(q: Queryable, mids: readonly string[]): Promise<Map<string, { account: string; status: string }>> {
  if (mids.length === 0) return new Map();
  const { rows } = await q.query<{ mid: string; account: string; status: string }>(
    'select l.mid, m.account, m.status from ctpat_mids l join ctpat_members m on m.account = l.account where l.mid = any($1::text[])',
    [mids],
  );
  return new Map(rows.map((r) => [r.mid, { account: r.account, status: r.status }]));
}

/** Every member as last imported (removed ones included, status revoked), by account: what outbound documents are planned from. */
export async function allCtpatMembers(q: Queryable): Promise<Map<string, Operator>> {
  const { rows } = await q.query<{ account: string; record: Operator }>('select account, record from ctpat_members');
  return new Map(rows.map((r) => [r.account, r.record]));
}
