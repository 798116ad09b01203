/**
 * What a partner's inbox remembers between deliveries, in memory: the answers it gave
 * (so that a retry with the same `jti`, or the same batch again, gets the earlier
 * receipt, as PROTOCOL.md §3 asks of the gateway) and its view of the gateway's
 * sequence, decided by the same pure rules the gateway applies to partners
 * (src/intake/sequence.ts), so `held` and `stale` mean the same in both directions.
 */
import { decideSequence, type HeldBatch, type HeldReason, type PartnerSequenceState } from '../intake/sequence.ts';

/** An answer given (or being made: its receipt is signed after it is remembered), kept to answer a repeat byte for byte. */
export interface Remembered {
  digest: string;
  body: Promise<string>;
}

/** A repeat of an earlier request: the earlier answer, or a conflict. */
export type Repeat = { kind: 'same'; answer: Remembered } | { kind: 'conflict' } | undefined;

export class InboxLedger {
  readonly #byJti = new Map<string, Remembered>();
  readonly #byBatch = new Map<string, Remembered>();
  readonly #sequences = new Set<number>();
  #state: PartnerSequenceState = { snapshotBase: null, runEnd: null };
  #held: HeldBatch[] = [];

  /** Whether this jti was answered before, and with the same body. */
  byJti(jti: string, digest: string): Repeat {
    return repeat(this.#byJti.get(jti), digest);
  }

  /** Whether this batch was answered before, and with the same body. */
  byBatch(batchId: string, digest: string): Repeat {
    return repeat(this.#byBatch.get(batchId), digest);
  }

  /** Decides where a new batch stands and moves the view on (§3 rules). */
  decide(batch: { batchId: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA' }): { disposition: 'accepted' | 'held' | 'stale'; heldReason?: HeldReason } {
    const decision = decideSequence(this.#state, this.#held, batch, this.#sequences.has(batch.sequence));
    this.#state = decision.state;
    const gone = new Set([...decision.release, ...decision.staled].map((h) => h.id));
    const relabelled = new Map(decision.relabel.map((r) => [r.batch.id, r.heldReason]));
    this.#held = this.#held.filter((h) => !gone.has(h.id)).map((h) => ({ ...h, heldReason: relabelled.get(h.id) ?? h.heldReason }));
    if (decision.disposition === 'held') {
      this.#held = [...this.#held, { id: batch.batchId, sequence: batch.sequence, kind: batch.kind, heldReason: decision.heldReason! }].sort((a, b) => a.sequence - b.sequence);
    }
    if (decision.disposition !== 'stale') this.#sequences.add(batch.sequence);
    return { disposition: decision.disposition, ...(decision.heldReason !== undefined && { heldReason: decision.heldReason }) };
  }

  /**
   * Keeps the answer to a new request, under its jti and its batch, before it is made: a
   * repeat arriving meanwhile (a delivery retried while this one was still in flight)
   * waits for it rather than being taken as a new document. An answer that could not be
   * made is forgotten, so that a retry is judged afresh.
   */
  remember(jti: string, batchId: string, answer: Remembered): void {
    this.#byJti.set(jti, answer);
    if (!this.#byBatch.has(batchId)) this.#byBatch.set(batchId, answer);
    answer.body.catch(() => {
      if (this.#byJti.get(jti) === answer) this.#byJti.delete(jti);
      if (this.#byBatch.get(batchId) === answer) this.#byBatch.delete(batchId);
    });
  }
}

function repeat(earlier: Remembered | undefined, digest: string): Repeat {
  if (earlier === undefined) return undefined;
  return earlier.digest === digest ? { kind: 'same', answer: earlier } : { kind: 'conflict' };
}
