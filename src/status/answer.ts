/**
 * What a status assertion says (PROTOCOL.md §5), as pure functions of what the store
 * holds and who asks. Undefined means 404: a subject the caller may not see is answered
 * exactly like one that does not exist.
 */
import type { HeldOperator, RecognitionState } from '../reconcile/model.ts';
import type { Caller, CtpatMemberStatus, StatusRecord } from './lookup.ts';

export const STATUS_TYP = 'mra-status+jwt';

/** The assertion's claims less iss/iat/exp (which the signer adds), and the body's `subject` (the same members). */
export interface StatusAnswer {
  subject: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** PROTOCOL §5: the record whose recognition ranks first gives the top-level status. */
const rank: Readonly<Record<RecognitionState, number>> = { recognized: 0, suspended: 1, revoked: 2, withdrawn: 3, 'out-of-scope': 4 };

/** C-TPAT status codes as assertion statuses; APPLICANT is seen by staff only, so it keeps its own word. */
const ctpatStatus: Readonly<Record<string, string>> = {
  APPLICANT: 'applicant',
  CERTIFIED: 'active',
  CERTIFIED_VALIDATED: 'active',
  TIER3: 'active',
  SUSPENDED: 'suspended',
  REMOVED: 'revoked',
};

/** The answer for a partner-record subject (every scheme but ctpat and mid), or undefined → 404. */
export function answerForRecords(subject: { scheme: string; id: string }, records: StatusRecord[], caller: Caller, gatewayId: string): StatusAnswer | undefined {
  const visible = ranked(records.filter((r) => mayAnswer(caller, r)));
  const [top] = visible;
  if (top === undefined) return undefined;
  // `record` tells several records apart; with one left it would only say that others were hidden.
  const several = visible.length > 1;
  const recognitions = visible.map((r) => recognition(r, gatewayId, { record: several, benefits: mayDetail(caller, r) ? benefitsOf(r.held) : undefined }));
  return answer({ ...headline(`${subject.scheme}:${subject.id}`, top), ...details(caller, visible), recognitions });
}

/** The answer for `mid:{mid}`: every operator linked to it, each with its record; undefined for anonymous callers. */
export function answerForMid(mid: string, records: StatusRecord[], caller: Caller, gatewayId: string): StatusAnswer | undefined {
  if (caller.kind === 'anonymous') return undefined;
  const visible = ranked(records.filter((r) => mayAnswer(caller, r)));
  const [top] = visible;
  if (top === undefined) return undefined;
  // Benefits are granted per MID: asked about one MID, only its own are in force for it.
  const recognitions = visible.map((r) => recognition(r, gatewayId, { record: true, benefits: mayDetail(caller, r) ? benefitsOf(r.held, mid) : undefined }));
  return answer({ ...headline(`mid:${mid}`, top), ...details(caller, visible), recognitions });
}

/** The answer for `ctpat:{account}`; applicants and members without consent only for staff. */
export function answerForCtpat(member: CtpatMemberStatus | undefined, caller: Caller): StatusAnswer | undefined {
  if (member === undefined) return undefined;
  const staff = caller.kind === 'staff';
  if (!staff && (member.status === 'APPLICANT' || !member.consent)) return undefined;
  const status = ctpatStatus[member.status];
  if (status === undefined) return undefined;
  const claims: Record<string, unknown> = {
    sub: `ctpat:${member.account}`,
    programme: 'C-TPAT',
    status,
    statusEffective: member.statusDate ?? null,
  };
  // Staff see the member's own data; a partner holds it only as we sent it, so it gets no more than anyone.
  if (staff) {
    claims['name'] = member.name;
    if (member.address !== undefined) claims['address'] = member.address;
    claims['mids'] = [...member.mids];
  }
  claims['recognitions'] = [...member.heldBy]
    .sort((a, b) => compare(a.partner, b.partner))
    .map((h) => ({ authority: h.partner, state: h.state, since: h.since }));
  return answer(claims);
}

/** Consent withheld by the format's flag, or the operator withdrawn for consent: only staff may see it. */
export function consentWithheld(held: HeldOperator): boolean {
  return held.record.consent?.given === false || held.withdrawn?.reason === 'consent';
}

/** Whether this record may be answered to the caller at all. */
function mayAnswer(caller: Caller, r: StatusRecord): boolean {
  return caller.kind === 'staff' || !consentWithheld(r.held);
}

/** Whether the caller may see name, address, MIDs and benefits: staff, or the partner that supplied the record. */
function mayDetail(caller: Caller, r: StatusRecord): boolean {
  return caller.kind === 'staff' || (caller.kind === 'partner' && caller.partner === r.partner.id);
}

/** Best recognition first; ties by record id, so the answer never depends on store order. */
function ranked(records: StatusRecord[]): StatusRecord[] {
  return [...records].sort((a, b) => rank[a.held.recognition.state] - rank[b.held.recognition.state] || compare(recordId(a), recordId(b)));
}

/** `programme`, `status` and `statusEffective` of the top record, after `sub`. */
function headline(sub: string, top: StatusRecord): Record<string, unknown> {
  const { held } = top;
  return { sub, programme: top.partner.programme, status: statusOf(held), statusEffective: statusEffectiveOf(held) };
}

function statusOf(held: HeldOperator): string {
  return held.withdrawn !== undefined ? 'withdrawn' : held.record.status.code;
}

function statusEffectiveOf(held: HeldOperator): string | null {
  if (held.withdrawn !== undefined) return held.recognition.state === 'withdrawn' ? held.recognition.since : held.withdrawn.since;
  return held.record.status.effective ?? null;
}

/** Name and address of the best record the caller may see in full, and the current MIDs of all of them. */
function details(caller: Caller, visible: StatusRecord[]): Record<string, unknown> {
  const detailed = visible.filter((r) => mayDetail(caller, r));
  const [best] = detailed;
  if (best === undefined) return {};
  const out: Record<string, unknown> = { name: best.held.record.name.legal };
  if (best.held.record.address !== undefined) out['address'] = { ...best.held.record.address };
  out['mids'] = unique(detailed.flatMap((r) => r.held.currentMids));
  return out;
}

function recognition(r: StatusRecord, gatewayId: string, extra: { record: boolean; benefits: string[] | undefined }): Record<string, unknown> {
  const { state, since } = r.held.recognition;
  const out: Record<string, unknown> = { authority: gatewayId, state, since };
  if (extra.record) out['record'] = recordId(r);
  if (extra.benefits !== undefined) out['benefits'] = extra.benefits;
  return out;
}

/** Benefit slugs in force, once each (a grant is per MID), optionally for one MID only. */
function benefitsOf(held: HeldOperator, mid?: string): string[] {
  return unique(held.benefits.filter((b) => mid === undefined || b.mid === mid).map((b) => b.benefit));
}

/** `scheme:key`, the scheme being the partner's format id. */
function recordId(r: StatusRecord): string {
  return `${r.partner.format}:${r.held.key}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort(compare);
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function answer(claims: Record<string, unknown>): StatusAnswer {
  return { subject: structuredClone(claims), claims };
}
