/**
 * Issue 11, F2 for outbound: a Redis that loses its data (restarted empty, flushed) lost
 * the delivery jobs it held too. A document still to deliver is queued again by the relay,
 * from the store; one already delivered is not.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverJob, deliverJobId, deliverQueue } from '../../src/queue/jobs.ts';
import { OutboxRelay } from '../../src/queue/outbox-relay.ts';
import { insertDelivery, markDelivered } from '../../src/store/deliveries.ts';
import { addToOutbox } from '../../src/store/outbox.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { REDIS_URL } from '../support/gateway.ts';

let database: TestDatabase | undefined;
let redis: Redis | undefined;
let queue: Queue | undefined;
const prefix = `{mragw-test-lost-${randomUUID().slice(0, 8)}}`;
afterEach(async () => {
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close();
  const keys = (await redis?.keys(`${prefix}*`)) ?? [];
  if (keys.length > 0) await redis?.del(...keys);
  redis?.disconnect();
  await database?.drop();
});

/** A stored JP document and its first delivery job in the outbox, as prepare-outbound leaves them. */
async function storedDocument(db: TestDatabase['db'], sequence: number): Promise<string> {
  const id = randomUUID();
  await db.transaction(async (tx) => {
    await insertDelivery(tx, { id, partner: 'JP', sequence, batchId: `B${sequence}`, kind: 'DELTA', jti: `j-${id}`, contentType: 'text/csv', body: Buffer.from('x'), digest: 'sha-256=x', signatureHeader: 'h', recordCount: 0, members: [] });
    await addToOutbox(tx, deliverJob('JP', id));
  });
  return id;
}

describe('a Redis that lost its data', () => {
  it('gets the delivery jobs of documents still to deliver again, and not those of documents delivered', async () => {
    database = await freshPostgres();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue(deliverQueue('JP'), { connection: redis, prefix });
    const relay = new OutboxRelay(database.db, redis, pino({ level: 'silent' }), prefix);
    const pending = await storedDocument(database.db, 1);
    const delivered = await storedDocument(database.db, 2);

    await relay.drain();
    expect((await queue.getJob(deliverJobId(pending)))?.id).toBe(deliverJobId(pending));
    await database.db.transaction((tx) => markDelivered(tx, delivered, { receipt: 'r', exchangeId: randomUUID(), disposition: 'accepted' }));

    // Everything Redis held is gone, the relay's own key with it.
    await redis.del(...(await redis.keys(`${prefix}*`)));
    expect(await queue.getJob(deliverJobId(pending))).toBeUndefined();
    await relay.drain();
    expect((await queue.getJob(deliverJobId(pending)))?.data).toEqual({ partner: 'JP', deliveryId: pending });
    expect(await queue.getJob(deliverJobId(delivered))).toBeUndefined();
  });
});
