/**
 * A large body written to the store while it arrives, a piece at a time, under the id its
 * exchange will have. Writing 57 MB in the acceptance transaction, after the last byte,
 * took 0.4 s of the 1.9 s to the 202 (the server's own work: WAL and TOAST at about
 * 230 MB/s, so neither larger pieces nor more WAL buffers helped); written while the
 * document is parsed, that work runs on the server's core beside the parse.
 *
 * Only whole pieces (BODY_PIECE_BYTES) are written ahead, one statement at a time in
 * order; the rest goes in the acceptance transaction as before, so a small document (most
 * of them) costs no statement more. Each piece commits on its own, but nothing refers to
 * it until the exchange row does, in the transaction that answers 202; a body that is not
 * accepted has its pieces removed (`discard`), and a crash's are removed by retention.
 */
import { BODY_PIECE_BYTES, insertBodyPiece, removeUnacceptedPieces } from '../store/exchanges.ts';
import type { Db } from '../store/db.ts';

export class StagedBody {
  /** Bytes received and not yet written ahead: less than a piece, but for one being cut. */
  #rest: Uint8Array[] = [];
  #restBytes = 0;
  #pieces = 0;
  /** The writes so far, one after the other; rejects with the first failure. */
  #written: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(
    private readonly db: Db,
    readonly exchangeId: string,
  ) {}

  /** Takes the next chunk of the body; every piece it completes is written behind the others. */
  write(chunk: Uint8Array): void {
    this.#rest.push(chunk);
    this.#restBytes += chunk.byteLength;
    while (this.#restBytes >= BODY_PIECE_BYTES && !this.#failed) this.#writeAhead(this.#cutPiece());
  }

  /**
   * Waits until every piece written ahead is stored; gives how many there are and the
   * bytes after them, for the acceptance transaction. Rejects if a write failed.
   */
  async settle(): Promise<{ storedPieces: number; rest: Uint8Array[] }> {
    await this.#written;
    return { storedPieces: this.#pieces, rest: this.#rest };
  }

  /** Removes what was written ahead: the body did not become an exchange. Never rejects. */
  async discard(): Promise<void> {
    await this.#written.catch(() => undefined);
    if (this.#pieces > 0) await removeUnacceptedPieces(this.db, this.exchangeId).catch(() => undefined);
  }

  #writeAhead(piece: Buffer): void {
    const number = ++this.#pieces;
    this.#written = this.#written.then(() => insertBodyPiece(this.db, this.exchangeId, number, piece));
    // A failure is told by settle(); meanwhile no piece more is written.
    this.#written.catch(() => (this.#failed = true));
  }

  /** The first BODY_PIECE_BYTES of the rest, as one buffer (the one copy a piece costs). */
  #cutPiece(): Buffer {
    const piece = Buffer.allocUnsafe(BODY_PIECE_BYTES);
    let filled = 0;
    while (filled < BODY_PIECE_BYTES) {
      const chunk = this.#rest[0]!;
      const take = Math.min(chunk.byteLength, BODY_PIECE_BYTES - filled);
      piece.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take === chunk.byteLength) this.#rest.shift();
      else this.#rest[0] = chunk.subarray(take);
    }
    this.#restBytes -= BODY_PIECE_BYTES;
    return piece;
  }
}
