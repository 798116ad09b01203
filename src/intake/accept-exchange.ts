/**
 * The acceptance of one verified document (PROTOCOL §3): retries answered with the
 * earlier receipt, conflicts refused, the document translated (a fault of the whole is
 * a 422 and uses up nothing), then — in one transaction, shared with the partner's
 * documents that arrive meanwhile (runLine) — the sequence decided, the receipt
 * signed, and the raw body, signature header, receipt and queue jobs stored.
 * The document itself was read while its body arrived (read-while-receiving.ts).
 * Only after the commit does the caller answer 202.
 */
import { randomUUID } from 'node:crypto';
import type { DocumentInvalidError} from '../errors.ts';
import type { Partner } from '../registry/partner.ts';
import type { Db, Queryable } from '../store/db.ts';
import { acceptanceView, exchangeByJti, insertExchange, setExchangeState, setHeldReason, type EarlierExchange } from '../store/exchanges.ts';
import { addToOutbox } from '../store/outbox.ts';
import { lockPartnerState, savePartnerState } from '../store/partner-state.ts';
import { rememberSigningKey } from '../store/signing-keys.ts';
import { applyJob } from '../queue/jobs.ts';
import type { Format } from '../translate/format.ts';
import type { ReadResult } from '../translate/read-document.ts';
import type { DocumentRead } from './read-while-receiving.ts';
import { rejectionsToStore } from './rejections.ts';
import type { ReceiptSigner } from './receipt.ts';
import { decideSequence, type PartnerSequenceState } from './sequence.ts';

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
  /** The id the exchange gets if accepted (the one its pieces were stored under); by default a new one. */
  exchangeId?: string;
  /** Pieces of the body stored already, while it arrived (stage-body.ts); `body` is then what came after them. */
  storedPieces?: number;
  /** The raw body as the pieces it arrived in, in order: stored so, never joined whole. */
  body: readonly Uint8Array[];
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
  if ('fault' in doc.read) {
    // A retry is answered as before, whatever its document: only a new request gets the 422.
    return answerRepeat(await exchangeByJti(deps.db, doc.partner.id, doc.requestJti), doc.digest, 'jti-conflict') ?? { outcome: 'invalid', error: doc.read.fault };
  }
  const read = doc.read.read;
  return new Promise((resolve, reject) => {
    const line = lineOf(deps.db, doc.partner.id);
    line.waiting.push({ doc, read, resolve, reject });
    if (!line.busy) void runLine(deps, line);
  });
}

/** A document whose acceptance waits for its partner's line. */
interface Waiting {
  doc: VerifiedDocument;
  read: ReadResult;
  resolve(outcome: AcceptOutcome): void;
  reject(error: unknown): void;
}

/** One partner's documents waiting, and whether a group of them is being accepted now. */
interface Line {
  waiting: Waiting[];
  busy: boolean;
}

/** At most this many documents, and about this many body bytes to write (what was not stored as it arrived), are accepted in one transaction. */
const GROUP_DOCUMENTS = 32;
const GROUP_BYTES = 4 * 1024 * 1024;

const lines = new WeakMap<Db, Map<string, Line>>();

function lineOf(db: Db, partner: string): Line {
  let byPartner = lines.get(db);
  if (!byPartner) lines.set(db, (byPartner = new Map()));
  let line = byPartner.get(partner);
  if (!line) byPartner.set(partner, (line = { waiting: [], busy: false }));
  return line;
}

/**
 * Group commit (issue 10). A partner's acceptances are decided one at a time (its
 * partner_state row is locked until commit), so each one held the lock for its round
 * trips and its commit's WAL flush while the others waited: with many in flight, the
 * partner's rate was one over that. Those that arrive while a transaction runs are
 * accepted together in the next one, in arrival order, exactly as one after the other
 * (each reads what the ones before it wrote), and all answered after its one commit.
 */
async function runLine(deps: IntakeDeps, line: Line): Promise<void> {
  line.busy = true;
  try {
    while (line.waiting.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < line.waiting.length && count < GROUP_DOCUMENTS && (count === 0 || bytes + bodyBytes(line.waiting[count]!.doc) <= GROUP_BYTES)) bytes += bodyBytes(line.waiting[count++]!.doc);
      await acceptGroup(deps, line.waiting.splice(0, count));
    }
  } finally {
    line.busy = false;
  }
}

const bodyBytes = (doc: VerifiedDocument) => doc.body.reduce((n, piece) => n + piece.length, 0);

/** Accepts a group and answers each of its documents; never throws. */
async function acceptGroup(deps: IntakeDeps, group: Waiting[]): Promise<void> {
  try {
    const outcomes = await acceptTogether(deps, group);
    group.forEach((w, i) => w.resolve(outcomes[i]!));
  } catch (error) {
    if (group.length === 1) return group[0]!.reject(error);
    // Nothing of the group was committed: one document's fault must not fail the others, so each is tried alone.
    for (const w of group) await acceptGroup(deps, [w]);
  }
}

/** One transaction for documents of one partner, in order; resolves once it is committed. */
async function acceptTogether(deps: IntakeDeps, group: readonly Waiting[]): Promise<AcceptOutcome[]> {
  const partnerId = group[0]!.doc.partner.id;
  const kids = kidsRecordedIn(deps.db);
  const recorded = new Set<string>();
  const outcomes = await deps.db.transaction(async (tx) => {
    const before = await lockPartnerState(tx, partnerId);
    let state = before;
    const answers: AcceptOutcome[] = [];
    for (const { doc, read } of group) {
      const accepted = await acceptOne(tx, deps, doc, read, state, (kid) => kids.has(kid) || recorded.has(kid));
      answers.push(accepted.outcome);
      state = accepted.state;
      if (accepted.recordedKid !== undefined) recorded.add(accepted.recordedKid);
    }
    if (state !== before) await savePartnerState(tx, partnerId, state);
    return answers;
  });
  for (const kid of recorded) kids.add(kid);
  return outcomes;
}

/** One document's acceptance inside its group's transaction, its partner's `state` as the documents before it left it. */
async function acceptOne(
  tx: Queryable,
  deps: IntakeDeps,
  doc: VerifiedDocument,
  read: ReadResult,
  state: PartnerSequenceState,
  kidRecorded: (kid: string) => boolean,
): Promise<{ outcome: AcceptOutcome; state: PartnerSequenceState; recordedKid?: string }> {
  const { digest } = doc;
  const partnerId = doc.partner.id;
  const envelope = read.batch.envelope!;
  // Retries and conflicts are told apart under the partner's lock, in the one read the
  // decision needs anyway: a duplicate sees what the first one stored (in this
  // transaction or an earlier one), and a new batch costs no read before it.
  const view = await acceptanceView(tx, partnerId, doc.requestJti, envelope.batchId, envelope.sequence);
  const again = answerRepeat(view.byJti, digest, 'jti-conflict') ?? answerRepeat(view.byBatchId, digest, 'duplicate-batch');
  if (again) return { outcome: again, state };

  const decision = decideSequence(state, view.held, envelope, view.sequenceTaken);
  const exchangeId = doc.exchangeId ?? randomUUID();
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
  let recordedKid: string | undefined;
  if (!kidRecorded(signed.key.kid)) {
    await rememberSigningKey(tx, signed.key);
    recordedKid = signed.key.kid;
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
    storedPieces: doc.storedPieces ?? 0,
    signatureHeader: doc.signatureHeader,
    signingKid: doc.signingKid,
    receivedAt: doc.receivedAt,
    disposition: decision.disposition,
    heldReason: decision.heldReason,
    state: decision.disposition === 'accepted' ? 'received' : decision.disposition,
    counts: { records: envelope.count, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: read.rejectedCount },
    rejections: rejectionsToStore(read.rejections),
    rejectionCount: read.faultCount,
    receipt: signed.token,
    receiptKid: signed.key.kid,
  });
  await setExchangeState(tx, decision.staled.map((h) => h.id), 'stale');
  await setExchangeState(tx, decision.release.map((h) => h.id), 'received');
  for (const { batch, heldReason } of decision.relabel) await setHeldReason(tx, batch.id, heldReason);
  await queueApplications(tx, partnerId, [...(decision.disposition === 'accepted' ? [{ id: exchangeId, sequence: envelope.sequence }] : []), ...decision.release]);
  return { outcome: { outcome: 'accepted', exchangeId, receipt: signed.token, disposition: decision.disposition }, state: decision.state, ...(recordedKid !== undefined && { recordedKid }) };
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
