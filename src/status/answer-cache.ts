/**
 * Status answers kept until what they say may have changed (issue 10: a look-up costs a
 * map read; a miss is cached like a hit, so it costs the same). An answer is kept as the
 * bytes sent, so that sending a kept hit and a kept miss is the same work. Each API process keeps
 * its own. The store notifies every committed change of what answers are read from;
 * `changed()` then makes every entry stale. An entry is stored with the generation seen
 * before its look-up started, so an answer read while a change was committing is never
 * kept. While changes cannot be heard (`deaf()`), nothing is kept. An entry also ages out
 * after `maxAgeSeconds`, so that the assertion it holds stays fresh. When full, the entry
 * least recently asked for goes: a flood of new misses does not push out the hits asked
 * for all the time.
 */
export interface CachedAnswer {
  /** 200 (a signed assertion) or 404. */
  status: 200 | 404;
  contentType: string;
  /** The body exactly as sent. */
  bytes: Buffer;
}

interface Entry {
  generation: number;
  storedAt: number;
  answer: CachedAnswer;
}

export class StatusAnswerCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #generation = 0;
  #hearing = false;

  constructor(options: { maxEntries?: number; maxAgeSeconds?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = (options.maxAgeSeconds ?? 60) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The generation to pass to `set` for a look-up starting now. */
  get generation(): number {
    return this.#generation;
  }

  /** The answer for `key`, if one is kept and still current. */
  get(key: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (!this.#hearing || entry.generation !== this.#generation || this.#now() - entry.storedAt >= this.#maxAgeMs) {
      this.#entries.delete(key);
      return undefined;
    }
    // Asked for again: the last to go (a Map iterates in insertion order).
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.answer;
  }

  /** Keeps `answer`, read by a look-up that started at `generation`; dropped if a change came since. */
  set(key: string, generation: number, answer: CachedAnswer): void {
    if (!this.#hearing || generation !== this.#generation) return;
    this.#entries.delete(key);
    this.#entries.set(key, { generation, storedAt: this.#now(), answer });
    // The entry least recently asked for goes first: a Map iterates in insertion order.
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Something answers are read from changed (or the registry was reloaded): every entry is stale. */
  changed(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** Changes can be heard from now on. */
  hearing(): void {
    this.changed();
    this.#hearing = true;
  }

  /** Changes can no longer be heard: keep nothing until they can again. */
  deaf(): void {
    this.#hearing = false;
    this.changed();
  }
}
