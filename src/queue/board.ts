/**
 * The gateway's queues as Bull Board sees them (the admins' page at /console/queues): a
 * BullMQ Queue for every queue of the catalogue (jobs.ts `queueNames`: each partner's
 * apply, outbound and deliver queues, the MRA calendar, retention), under the gateway's
 * prefix. Only queue/ speaks BullMQ, so the board's queue adapters are built here; the
 * HTTP edge mounts the board. The Redis connection is opened at the first look, so a
 * gateway whose admins never open the board holds none.
 */
import type { BaseAdapter } from '@bull-board/api/dist/queueAdapters/base.js';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNames } from './jobs.ts';
import { connectRedis, producerOptions } from './redis.ts';

export type { BaseAdapter as BoardQueueAdapter };

/** The board's view of the queues: adapters for the current partners, reused across calls; close() at shutdown. */
export class BoardQueues {
  readonly #adapters = new Map<string, { queue: Queue; adapter: BaseAdapter }>();
  #connection: Redis | undefined;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
  ) {}

  /** An adapter per queue of these partners (a partner added by a registry reload gets its own). */
  adapters(partnerIds: readonly string[]): BaseAdapter[] {
    // Fails fast like a producer: a Redis outage shows as an error on the page, never a hung request.
    if (this.#connection === undefined) {
      this.#connection = connectRedis(this.redisUrl, { ...producerOptions(), enableOfflineQueue: true });
      this.#connection.on('error', () => {});
    }
    return queueNames(partnerIds).map((name) => {
      let entry = this.#adapters.get(name);
      if (entry === undefined) {
        const queue = new Queue(name, { connection: this.#connection!, prefix: this.prefix });
        queue.on('error', () => {});
        entry = { queue, adapter: new BullMQAdapter(queue) };
        this.#adapters.set(name, entry);
      }
      return entry.adapter;
    });
  }

  /** Closes the queues and their connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#adapters.values()].map(({ queue }) => queue.close().catch(() => {})));
    this.#adapters.clear();
    this.#connection?.disconnect();
    this.#connection = undefined;
  }
}
