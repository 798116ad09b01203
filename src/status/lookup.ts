/** What the status endpoint needs of the store: records by identifier or MID, and C-TPAT members. */
import type { HeldOperator } from '../reconcile/model.ts';

/** One partner record that a status question may be about. */
export interface StatusRecord {
  partner: { id: string; programme: string; format: string };
  held: HeldOperator;
}

/** A C-TPAT member as the gateway knows it (from the C-TPAT export). */
export interface CtpatMemberStatus {
  account: string;
  /** C-TPAT status: APPLICANT, CERTIFIED, CERTIFIED_VALIDATED, TIER3, SUSPENDED, REMOVED. */
  status: string;
  statusDate: string | undefined;
  consent: boolean;
  name: string;
  address: Record<string, string> | undefined;
  mids: string[];
  /** Partners that hold the member, from their verified receipts of documents that carried it as VALID. */
  heldBy: { partner: string; state: 'recognized' | 'suspended' | 'revoked' | 'withdrawn'; since: string }[];
}

/**
 * What a look-up found, and for a miss a stand-in: another subject found earlier, read
 * from the store as a hit is read, for the miss to answer and throw away. A miss then
 * does a hit's work, reading a real record rather than nothing (PROTOCOL §5: a miss
 * answers in the same time as a hit). No stand-in for a hit, or before anything was found.
 */
export interface FoundRecords {
  records: StatusRecord[];
  standIn: StatusRecord[];
}

export interface FoundMember {
  member: CtpatMemberStatus | undefined;
  standIn: CtpatMemberStatus | undefined;
}

export interface StatusLookup {
  /**
   * Records whose identifier of `scheme` is `normalisedId`: a format id (`eu-aeo`, …)
   * looks up that partner's record key; `eori`, `jp-corp`, `kr-brn`, `ca-bn`, `mx-rfc`
   * the national identifier (normalised as PROTOCOL §5 says).
   */
  byIdentifier(scheme: string, normalisedId: string): Promise<FoundRecords>;
  /** Records that link this MID now. */
  byMid(mid: string): Promise<FoundRecords>;
  ctpatMember(account: string): Promise<FoundMember>;
}

/** Who asks: anonymous, a partner (signed per PROTOCOL §2), or CBP staff (bearer token). */
export type Caller = { kind: 'anonymous' } | { kind: 'partner'; partner: string } | { kind: 'staff'; subject: string };
