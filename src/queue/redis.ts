/**
 * Redis connections. Producers (the outbox relay, rate limits) fail fast so that a Redis
 * outage never stalls a request; workers wait for Redis to return (BullMQ needs
 * `maxRetriesPerRequest: null` there). Every key starts with QUEUE_PREFIX, one hash tag
 * (`{mragw}`), so that all of them live in one slot of a Redis Cluster.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Options for a connection that must never block a request. */
export function producerOptions(): RedisOptions {
  return { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 2_000, retryStrategy: (times) => Math.min(times * 200, 2_000) };
}

/** Options for a BullMQ worker connection. */
export function workerOptions(): RedisOptions {
  return { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2_000) };
}

/** Connects to `url` (`redis://`, `rediss://` or `unix://path`). */
export function connectRedis(url: string, options: RedisOptions): Redis {
  if (url.startsWith('unix://')) return new Redis({ ...options, path: url.slice('unix://'.length) });
  return new Redis(url, options);
}

/** Whether something answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = connectRedis(url, { ...producerOptions(), lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
