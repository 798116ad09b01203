/**
 * Per-minute counters in Redis (fixed windows): refused unauthenticated requests per
 * client address, verified requests per partner, status look-ups per address. They fail
 * open: while Redis is down every request is let through, and that is logged.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type LimitKind = 'preauth-failures' | 'partner' | 'status';

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until the window ends. */
  retryAfterSeconds: number;
}

export class RateLimits {
  private warned = false;
  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `subject` is still under `limit` this minute, without counting. */
  async check(kind: LimitKind, subject: string, limit: number): Promise<LimitVerdict> {
    const { key, retryAfterSeconds } = this.window(kind, subject);
    const count = await this.safely(async () => Number((await this.redis.get(key)) ?? 0));
    return { allowed: count === undefined || count < limit, retryAfterSeconds };
  }

  /** Counts one request of `subject`; says whether it was still under `limit`. */
  async hit(kind: LimitKind, subject: string, limit: number): Promise<LimitVerdict> {
    const { key, retryAfterSeconds } = this.window(kind, subject);
    const count = await this.safely(async () => {
      const [[, n]] = (await this.redis.multi().incr(key).expire(key, 120).exec()) as [[Error | null, number]];
      return n;
    });
    return { allowed: count === undefined || count <= limit, retryAfterSeconds };
  }

  private window(kind: LimitKind, subject: string) {
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    return { key: `${this.prefix}:limit:${kind}:${subject}:${minute}`, retryAfterSeconds: 60 - Math.floor((now % 60_000) / 1000) };
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
