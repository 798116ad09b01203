/**
 * Records kept as UTF-8 JSON until their window, end to end in buffers of a megabyte:
 * one Buffer per megabyte, where one Buffer per record cost about 100 bytes of heap each
 * (10 MiB for a batch of 100,000), on top of the text outside the heap.
 */
const CHUNK_BYTES = 1024 * 1024;
const FIRST_CHUNK_BYTES = 16 * 1024;

export class KeptJson {
  private readonly chunks: Buffer[] = [];
  private used = CHUNK_BYTES;
  /** For record n: its chunk, and its start and end in that chunk. */
  private chunkOf = new Uint32Array(1024);
  private startOf = new Uint32Array(1024);
  private endOf = new Uint32Array(1024);
  private count = 0;

  /** Keeps `text`; returns its number, for `bytes`. */
  add(text: string): number {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    const room = text.length * 3;
    if (this.chunks.length === 0 || this.used + room > this.chunks.at(-1)!.length) {
      // Chunks of 16 KiB, then twice as large each time up to a megabyte: the batch of one
      // record a small DELTA carries must not cost a megabyte, which V8 counts as external
      // memory towards its next full collection.
      this.chunks.push(Buffer.allocUnsafeSlow(Math.max(room, Math.min(CHUNK_BYTES, FIRST_CHUNK_BYTES * 2 ** this.chunks.length))));
      this.used = 0;
    }
    const n = this.count++;
    if (n === this.chunkOf.length) this.grow();
    const start = this.used;
    this.used += this.chunks.at(-1)!.write(text, start, 'utf8');
    this.chunkOf[n] = this.chunks.length - 1;
    this.startOf[n] = start;
    this.endOf[n] = this.used;
    return n;
  }

  /** The bytes of record `n`: a view into its chunk, not a copy. */
  bytes(n: number): Buffer {
    return this.chunks[this.chunkOf[n]!]!.subarray(this.startOf[n], this.endOf[n]);
  }

  private grow(): void {
    const bigger = (a: Uint32Array) => {
      const b = new Uint32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.chunkOf = bigger(this.chunkOf);
    this.startOf = bigger(this.startOf);
    this.endOf = bigger(this.endOf);
  }
}
