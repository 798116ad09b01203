/**
 * The acceptance of one verified document (PROTOCOL §3): retries answered with the
 * earlier receipt, conflicts refused, the document translated (a fault of the whole is
 * a 422 and uses up nothing), then — in one transaction — the sequence decided, the
 * receipt signed, and the raw body, signature header, receipt and queue jobs stored.
 * The document itself was read while its body arrived (read-while-receiving.ts).
 * Only after the commit does the caller answer 202.
 */
import { randomUUID } from 'node:crypto';
import type { DocumentInvalidError} from '../errors.ts';
import { type RecordIssue } from '../errors.ts';
import type { Partner } from '../registry/partner.ts';
import type { Db, Queryable } from '../store/db.ts';
import { acceptanceView, exchangeByJti, insertExchange, setExchangeState, setHeldReason, type EarlierExchange } from '../store/exchanges.ts';
import { addToOutbox } from '../store/outbox.ts';
import { lockPartnerState, savePartnerState } from '../store/partner-state.ts';
import { rememberSigningKey } from '../store/signing-keys.ts';
import { applyJob } from '../queue/jobs.ts';
import type { Format } from '../translate/format.ts';
import type { DocumentRead } from './read-while-receiving.ts';
import type { ReceiptSigner } from './receipt.ts';
import { decideSequence } from './sequence.ts';

export interface IntakeDeps {
  db: Db;
  formats: ReadonlyMap<string, Format>;
  gatewayId: string;
  receipts: ReceiptSigner;
}

export interface VerifiedDocument {
  partner: Partner;
  requestJti: string;
  /** The partner's key that signed the request (`kid`). */
  signingKid: string;
  /** The raw body as the pieces it arrived in, in order: stored so, never joined whole. */
  body: readonly Buffer[];
  /** The body as read while it arrived (read-while-receiving.ts). */
  read: DocumentRead;
  /** Its digest (`bodyDigest`), taken as it arrived. */
  digest: string;
  signatureHeader: string;
  contentType: string;
  receivedAt: Date;
}

export type AcceptOutcome =
  | { outcome: 'accepted'; exchangeId: string; receipt: string; disposition: 'accepted' | 'held' | 'stale' }
  | { outcome: 'repeat'; exchangeId: string; receipt: string }
  | { outcome: 'conflict'; slug: 'jti-conflict' | 'duplicate-batch'; detail: string }
  | { outcome: 'invalid'; error: DocumentInvalidError };

/**
 * The kids this process has seen recorded in each store's signing_keys, by a committed
 * acceptance: rows there are never removed, so recording them again would only cost the
 * acceptance one more round trip while it holds its partner's lock.
 */
const recordedKids = new WeakMap<Db, Set<string>>();

function kidsRecordedIn(db: Db): Set<string> {
  let kids = recordedKids.get(db);
  if (!kids) recordedKids.set(db, (kids = new Set()));
  return kids;
}

/** Accepts one verified document; resolves once everything it answers with is committed. */
export async function acceptExchange(deps: IntakeDeps, doc: VerifiedDocument): Promise<AcceptOutcome> {
  const { digest } = doc;
  const partnerId = doc.partner.id;

  if ('fault' in doc.read) {
    // A retry is answered as before, whatever its document: only a new request gets the 422.
    return answerRepeat(await exchangeByJti(deps.db, partnerId, doc.requestJti), digest, 'jti-conflict') ?? { outcome: 'invalid', error: doc.read.fault };
  }
  const { read } = doc.read;
  const envelope = read.batch.envelope!;

  const kids = kidsRecordedIn(deps.db);
  let recorded: string | undefined;
  // Retries and conflicts are told apart under the partner's lock, in the one read the
  // decision needs anyway: a concurrent duplicate that waited for the lock sees what the
  // first one stored, and a new batch (nearly every request) costs no read before it.
  const outcome = await deps.db.transaction(async (tx): Promise<AcceptOutcome> => {
    const state = await lockPartnerState(tx, partnerId);
    const view = await acceptanceView(tx, partnerId, doc.requestJti, envelope.batchId, envelope.sequence);
    const again = answerRepeat(view.byJti, digest, 'jti-conflict') ?? answerRepeat(view.byBatchId, digest, 'duplicate-batch');
    if (again) return again;

    const decision = decideSequence(state, view.held, envelope, view.sequenceTaken);
    const exchangeId = randomUUID();
    const signed = await deps.receipts.sign({
      aud: partnerId,
      exchangeId,
      requestJti: doc.requestJti,
      batchId: envelope.batchId,
      digest,
      receivedAt: doc.receivedAt.toISOString(),
      kind: envelope.kind,
      sequence: envelope.sequence,
      recordCount: envelope.count,
      disposition: decision.disposition,
      ...(decision.heldReason && { heldReason: decision.heldReason }),
    });
    if (!kids.has(signed.key.kid)) {
      await rememberSigningKey(tx, signed.key);
      recorded = signed.key.kid;
    }
    await insertExchange(tx, {
      id: exchangeId,
      partner: partnerId,
      requestJti: doc.requestJti,
      batchId: envelope.batchId,
      sequence: envelope.sequence,
      kind: envelope.kind,
      format: doc.partner.format,
      contentType: doc.contentType,
      digest,
      body: doc.body,
      signatureHeader: doc.signatureHeader,
      signingKid: doc.signingKid,
      receivedAt: doc.receivedAt,
      disposition: decision.disposition,
      heldReason: decision.heldReason,
      state: decision.disposition === 'accepted' ? 'received' : decision.disposition,
      counts: { records: envelope.count, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: read.rejectedCount },
      rejections: rejectionsForReadBack(read.rejections),
      receipt: signed.token,
      receiptKid: signed.key.kid,
    });
    await savePartnerState(tx, partnerId, decision.state);
    await setExchangeState(tx, decision.staled.map((h) => h.id), 'stale');
    await setExchangeState(tx, decision.release.map((h) => h.id), 'received');
    for (const { batch, heldReason } of decision.relabel) await setHeldReason(tx, batch.id, heldReason);
    await queueApplications(tx, partnerId, [...(decision.disposition === 'accepted' ? [{ id: exchangeId, sequence: envelope.sequence }] : []), ...decision.release]);
    return { outcome: 'accepted', exchangeId, receipt: signed.token, disposition: decision.disposition };
  });
  if (recorded !== undefined) kids.add(recorded);
  return outcome;
}

/** A request or batch seen before: the same bytes get the earlier receipt, other bytes a conflict. */
function answerRepeat(earlier: EarlierExchange | undefined, digest: string, slug: 'jti-conflict' | 'duplicate-batch'): AcceptOutcome | undefined {
  if (!earlier) return undefined;
  if (earlier.digest === digest) return { outcome: 'repeat', exchangeId: earlier.id, receipt: earlier.receipt };
  const detail = slug === 'jti-conflict' ? 'this jti was already used for a request with another body' : 'this batchId was already accepted with another body';
  return { outcome: 'conflict', slug, detail };
}

/** Jobs that apply batches, in sequence order, written with the exchange (the outbox relays them). */
async function queueApplications(tx: Queryable, partner: string, batches: readonly { id: string; sequence: number }[]): Promise<void> {
  for (const batch of [...batches].sort((a, b) => a.sequence - b.sequence)) await addToOutbox(tx, applyJob(partner, batch.id, batch.sequence));
}

/** Rejections as `GET /v1/exchanges/{id}` reports them (PROTOCOL §5). */
function rejectionsForReadBack(issues: readonly RecordIssue[]): unknown[] {
  return issues.map(({ index, key, pointer, code, message }) => ({ index, key, pointer, code, message }));
}
