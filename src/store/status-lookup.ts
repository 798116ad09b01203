/** The status endpoint's view of the store (status/lookup.ts), over the reconciliation tables. */
import type { PartnerDirectory } from '../registry/partner.ts';
import { asOfToday } from '../status/as-of-today.ts';
import type { CtpatMemberStatus, StatusLookup, StatusRecord } from '../status/lookup.ts';
import type { Queryable } from './db.ts';
import { loadHeld } from './operators.ts';

export function statusLookup(q: Queryable, partners: Pick<PartnerDirectory, 'partner'>, today: () => string = () => new Date().toISOString().slice(0, 10)): StatusLookup {
  const records = async (pairs: readonly { partner: string; record_key: string }[]): Promise<StatusRecord[]> => {
    const out: StatusRecord[] = [];
    for (const { partner, record_key } of pairs) {
      const entry = partners.partner(partner);
      const held = (await loadHeld(q, partner, [record_key])).get(record_key);
      if (entry && held) out.push({ partner: { id: entry.id, programme: entry.programme, format: entry.format }, held: asOfToday(held, entry, today()) });
    }
    return out;
  };
  return {
    async byIdentifier(scheme, normalisedId) {
      const { rows } = await q.query<{ partner: string; record_key: string }>('select partner, record_key from operator_identifiers where scheme = $1 and value = $2 order by partner, record_key', [scheme, normalisedId]);
      return records(rows);
    },
    async byMid(mid) {
      const { rows } = await q.query<{ partner: string; record_key: string }>('select partner, record_key from mid_links where mid = $1 order by partner, record_key', [mid]);
      return records(rows);
    },
    async ctpatMember(account): Promise<CtpatMemberStatus | undefined> {
      const { rows } = await q.query<{ account: string; status: string; consent: boolean; mids: string[]; record: { name: { legal: string }; address?: Record<string, string>; status: { effective?: string } } }>(
        'select account, status, consent, mids, record from ctpat_members where account = $1',
        [account],
      );
      const m = rows[0];
      if (!m) return undefined;
      return { account: m.account, status: m.status, statusDate: m.record.status.effective, consent: m.consent, name: m.record.name.legal, address: m.record.address, mids: m.mids, heldBy: [] };
    },
  };
}
