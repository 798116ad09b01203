/**
 * Per-minute counters in Redis (fixed windows): refused unauthenticated requests per
 * client address, verified requests per partner, status look-ups per address. They fail
 * open: while Redis is down every request is let through, and that is logged.
 *
 * A Redis round trip per request was the largest cost of an anonymous status look-up
 * (issue 10), so each process counts locally and sends its counts to Redis in batches
 * (every `syncMs`, one pipeline of INCRBY), learning the other processes' counts from
 * the totals Redis answers. A subject's first request of a minute, and every request
 * within the last `exactMargin` of its limit (a tenth of it, at least 50), is counted in
 * Redis before it is answered, as all were before; the others are decided locally. The
 * tolerance: within one process the limit is exact; across processes the total can pass
 * it by at most the requests the other processes decided locally in the last sync
 * interval (25 ms) before the total entered the margin.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type LimitKind = 'preauth-failures' | 'partner' | 'status';

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until the window ends. */
  retryAfterSeconds: number;
}

/** One subject's window as this process knows it. */
interface Window {
  key: string;
  minute: number;
  /** The total in Redis when last heard, this process's sent counts included. */
  known: number;
  /** Counted here, not yet sent to Redis. */
  pending: number;
  /**
   * Sent to Redis, its answer not yet back. Anything asked of Redis later on the same
   * connection is answered after these counts are added, so such an answer includes them.
   */
  sending: number;
  /** performance.now() of the last answer from Redis about this window; -Infinity if none. */
  heardAt: number;
}

/** Requests within this many of a limit are counted in Redis before they are answered. */
export function exactMargin(limit: number): number {
  return Math.max(50, Math.ceil(limit / 10));
}

export class RateLimits {
  private warned = false;
  private readonly windows = new Map<string, Window>();
  private timer: NodeJS.Timeout | undefined;
  private minute = Number.NEGATIVE_INFINITY;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
    private readonly syncMs = 25,
  ) {}

  /** Whether `subject` is still under `limit` this minute, without counting. */
  async check(kind: LimitKind, subject: string, limit: number): Promise<LimitVerdict> {
    const { window, retryAfterSeconds } = this.window(kind, subject);
    // Far below the limit and heard from Redis within the sync interval: the local figure is good enough.
    if (this.isFresh(window) && window.known + window.sending + window.pending < limit - exactMargin(limit)) return { allowed: true, retryAfterSeconds };
    // Counts not yet sent are not in the total read: what is unsent when the GET is sent counts on top.
    const unsent = window.pending;
    const count = await this.safely(async () => Number((await this.redis.get(window.key)) ?? 0));
    if (count === undefined) return { allowed: true, retryAfterSeconds };
    this.heard(window, count);
    return { allowed: count + unsent < limit, retryAfterSeconds };
  }

  /** Counts one request of `subject`; says whether it was still under `limit`. */
  async hit(kind: LimitKind, subject: string, limit: number): Promise<LimitVerdict> {
    const { window, retryAfterSeconds } = this.window(kind, subject);
    if (window.heardAt > Number.NEGATIVE_INFINITY && window.known + window.sending + window.pending + 1 <= limit - exactMargin(limit)) {
      window.pending++;
      this.scheduleSync();
      return { allowed: true, retryAfterSeconds };
    }
    // This request goes to Redis with every count not yet sent, so that the total it reads back is exact.
    const counted = window.pending + 1;
    window.pending = 0;
    window.sending += counted;
    const count = await this.safely(async () => {
      const [[, n]] = (await this.redis.multi().incrby(window.key, counted).expire(window.key, 120).exec()) as [[Error | null, number]];
      return n;
    });
    window.sending -= counted;
    if (count === undefined) {
      // Still counted, so that Redis has it once it answers again.
      window.pending += counted;
      this.scheduleSync();
      return { allowed: true, retryAfterSeconds };
    }
    this.heard(window, count);
    return { allowed: count <= limit, retryAfterSeconds };
  }

  /** Sends every count not yet in Redis (tests, shutdown); the next sync would anyway. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.syncing) await this.syncing;
    this.syncing = this.sync().finally(() => (this.syncing = undefined));
    await this.syncing;
  }

  private window(kind: LimitKind, subject: string): { window: Window; retryAfterSeconds: number } {
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) this.forgetPastMinutes(minute);
    const key = `${this.prefix}:limit:${kind}:${subject}:${minute}`;
    let window = this.windows.get(key);
    if (window === undefined) {
      window = { key, minute, known: 0, pending: 0, sending: 0, heardAt: Number.NEGATIVE_INFINITY };
      this.windows.set(key, window);
    }
    return { window, retryAfterSeconds: 60 - Math.floor((now % 60_000) / 1000) };
  }

  private isFresh(window: Window): boolean {
    return performance.now() - window.heardAt <= this.syncMs;
  }

  private heard(window: Window, total: number): void {
    window.known = Math.max(window.known, total);
    window.heardAt = performance.now();
  }

  private scheduleSync(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.syncMs);
    // Counts of a process that is ending are at most one interval's: they do not keep it alive.
    this.timer.unref();
  }

  /** One pipeline: INCRBY for every window with counts not yet sent. */
  private async sync(): Promise<void> {
    const sending = [...this.windows.values()].filter((w) => w.pending > 0).map((w) => ({ window: w, count: w.pending }));
    for (const s of sending) {
      s.window.pending -= s.count;
      s.window.sending += s.count;
    }
    if (sending.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const { window, count } of sending) pipeline.incrby(window.key, count).expire(window.key, 120);
      let totals: number[] = [];
      const sent = await this.safely(async () => {
        const results = (await pipeline.exec()) ?? [];
        const failed = results.find(([error]) => error !== null);
        if (failed) throw failed[0]!;
        // Each window's INCRBY answer is at an even index (its EXPIRE follows it).
        totals = results.filter((_, i) => i % 2 === 0).map(([, total]) => Number(total));
        return totals.length;
      });
      for (const s of sending) s.window.sending -= s.count;
      if (sent === undefined) {
        // Not counted in Redis: kept here for the next sync.
        for (const s of sending) s.window.pending += s.count;
        this.scheduleSync();
      } else {
        sending.forEach((s, i) => this.heard(s.window, totals[i]!));
      }
    }
    this.forgetPastMinutes(Math.floor(this.now() / 60_000));
  }

  /** Windows of past minutes are no longer asked about once their counts are sent. */
  private forgetPastMinutes(current: number): void {
    this.minute = current;
    for (const [key, window] of this.windows) if (window.minute < current && window.pending === 0 && window.sending === 0) this.windows.delete(key);
  }

  private async safely(fn: () => Promise<number>): Promise<number | undefined> {
    try {
      const value = await fn();
      if (this.warned) this.log.info('rate limits: Redis answers again');
      this.warned = false;
      return value;
    } catch (error) {
      if (!this.warned) this.log.warn({ err: (error as Error).message }, 'rate limits: Redis is unreachable, requests are let through');
      this.warned = true;
      return undefined;
    }
  }
}
