/** Status records as the store would hold them, for the answer and route tests. */
import type { HeldOperator } from '../../src/reconcile/model.ts';
import type { CtpatMemberStatus, StatusRecord } from '../../src/status/lookup.ts';

export const partners = {
  EU: { id: 'EU', programme: 'EU-AEO', format: 'eu-aeo' },
  GB: { id: 'GB', programme: 'UK-AEO', format: 'gb-aeo' },
  MX: { id: 'MX', programme: 'MX-OEA', format: 'mx-oea' },
} as const;

export interface RecordOptions {
  partner?: keyof typeof partners;
  key?: string;
  eori?: string;
  type?: string;
  name?: string;
  status?: 'active' | 'suspended' | 'revoked';
  effective?: string;
  consent?: boolean | undefined;
  withdrawn?: HeldOperator['withdrawn'];
  recognition?: Partial<HeldOperator['recognition']>;
  benefits?: [mid: string, benefit: string][];
  mids?: string[];
  address?: boolean;
}

/** An EU AEOF operator, recognized, with consent, one MID and one benefit, unless told otherwise. */
export function record(options: RecordOptions = {}): StatusRecord {
  const partner = partners[options.partner ?? 'EU'];
  const key = options.key ?? 'DEAEOF0000000001';
  const mids = options.mids ?? ['DEMULLER12BER'];
  const held: HeldOperator = {
    partner: partner.id,
    key,
    record: {
      key,
      identifier: { scheme: 'eori', value: options.eori ?? 'DE1234567890123' },
      authorisation: { type: options.type ?? 'AEOF' },
      name: { legal: options.name ?? 'Müller Logistik GmbH' },
      ...(options.address !== false && { address: { street: 'Hauptstraße 12', city: 'Berlin', postalCode: '10115', country: 'DE' } }),
      status: { code: options.status ?? 'active', effective: options.effective ?? '2020-01-01' },
      ...(options.consent !== undefined && { consent: { given: options.consent } }),
      mids: mids.map((mid) => ({ mid })),
    },
    ...(options.withdrawn && { withdrawn: options.withdrawn }),
    recognition: { state: 'recognized', since: '2020-02-01', exchangeId: '00000000-0000-4000-8000-000000000001', ...options.recognition },
    benefits: (options.benefits ?? [[mids[0] ?? 'DEMULLER12BER', 'reduced-examinations']]).map(([mid, benefit]) => ({ mid, benefit, since: '2020-02-01' })),
    currentMids: mids,
    lastExchangeId: '00000000-0000-4000-8000-000000000001',
    lastSequence: 1,
  };
  return { partner, held };
}

/** A certified C-TPAT member with consent, held by EU. */
export function ctpatMember(overrides: Partial<CtpatMemberStatus> = {}): CtpatMemberStatus {
  return {
    account: 'CT-0012345',
    status: 'CERTIFIED_VALIDATED',
    statusDate: '2022-10-18',
    consent: true,
    name: 'Great Lakes Outdoor Supply LLC',
    address: { street: '1200 Commerce Dr', city: 'Toledo', state: 'OH', postalCode: '43604', country: 'US' },
    mids: [],
    heldBy: [{ partner: 'EU', state: 'recognized', since: '2023-01-05' }],
    ...overrides,
  };
}
