/**
 * Keeps the status answer cache hearing the store's change notifications (migration
 * 0009). While the listening connection is down the cache keeps nothing, and listening
 * is tried again every few seconds: a missed notification must never leave a stale answer.
 */
import type { Logger } from 'pino';
import type { StatusAnswerCache } from '../status/answer-cache.ts';
import type { Db } from '../store/db.ts';

export const STATUS_CHANNEL = 'mragw_status';

/** Starts listening; the function it gives stops. */
export function hearStatusChanges(db: Db, cache: StatusAnswerCache, log: Logger, retryMs = 5_000): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;

  const retry = () => {
    if (stopped) return;
    timer = setTimeout(() => void listen(), retryMs);
    timer.unref();
  };
  const listen = async () => {
    try {
      unlisten = await db.listen(STATUS_CHANNEL, {
        notified: () => cache.changed(),
        lost: () => {
          cache.deaf();
          if (stopped) return;
          log.warn('status changes can no longer be heard: status answers are not cached until they can');
          retry();
        },
      });
      if (stopped) return void (await unlisten());
      cache.hearing();
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'status changes cannot be heard: status answers are not cached for now');
      retry();
    }
  };
  void listen();

  return async () => {
    stopped = true;
    clearTimeout(timer);
    cache.deaf();
    await unlisten?.();
  };
}
