/**
 * The raw body of an exchange stored in pieces (migration 0011): written as received,
 * read back byte for byte by the apply job, the staff download and the staff view, and
 * removed whole by retention. Bodies stored whole before 0011 still read.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_PIECE_BYTES, exchangeBodyPieces, exchangeDocument, insertBodyPiece, insertExchange, removeUnacceptedPieces, staffExchangeView, type NewExchange } from '../../src/store/exchanges.ts';
import { removeDocumentsChunk, removeOrphanPieces } from '../../src/store/retention.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';

const exchange = (body: NewExchange['body']): NewExchange => ({
  id: randomUUID(), partner: 'EU', requestJti: `jti-${randomUUID()}`, batchId: `B-${randomUUID()}`, sequence: 1, kind: 'SNAPSHOT', format: 'eu-aeo',
  contentType: 'application/xml', digest: 'sha-256=abc', body, signatureHeader: 'h..s', signingKid: 'k1', receivedAt: new Date(), disposition: 'accepted',
  heldReason: undefined, state: 'received', counts: { records: 0, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: 0 }, rejections: [], receipt: 'r', receiptKid: 'k',
});

/** `bytes` cut as a socket might deliver them: uneven chunks, none aligned with a piece. */
function chunksOf(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let from = 0, i = 0; from < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(from, from + size));
    from += size;
  }
  return chunks;
}

async function readAll(pieces: AsyncIterable<Buffer> | undefined): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of pieces!) out.push(piece);
  return out;
}

describe('exchange bodies in pieces', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshPostgres();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('stores a multi-piece body as received: its pieces joined are the bytes sent, byte for byte', async () => {
    // Seven pieces: one in the exchange's row, six more in exchange_body_pieces.
    const body = randomBytes(6 * BODY_PIECE_BYTES + 12_345);
    const e = exchange(chunksOf(body, [65_536, 1, 70_001, 3 * BODY_PIECE_BYTES]));
    await insertExchange(t.db, e);

    const { rows } = await t.db.query<{ body: Buffer; pieces: Buffer[] }>(
      'select body, array(select bytes from exchange_body_pieces p where p.exchange_id = e.id order by piece) as pieces from exchanges e where id = $1',
      [e.id],
    );
    const stored = [rows[0]!.body, ...rows[0]!.pieces];
    expect(stored.length).toBe(7);
    for (const piece of stored) expect(piece.length).toBeLessThanOrEqual(BODY_PIECE_BYTES);
    expect(Buffer.concat(stored).equals(body)).toBe(true);

    // Read back as the apply job reads it, in pieces of the size it asks for.
    const read = await readAll(await exchangeBodyPieces(t.db, e.id, 300_000));
    for (const piece of read) expect(piece.length).toBeLessThanOrEqual(300_000);
    expect(Buffer.concat(read).equals(body)).toBe(true);

    expect((await exchangeDocument(t.db, e.id))!.body!.equals(body)).toBe(true);
    expect((await staffExchangeView(t.db, e.id))!.documentBytes).toBe(body.length);
  });

  it('compresses pieces with lz4 on a server built with it (migration 0014), and reads them back byte for byte', async () => {
    const text = Buffer.from('<Operator><Name>Hafen Logistik GmbH</Name><Status code="VALID"/></Operator>\n'.repeat(40_000));
    const e = exchange(chunksOf(text, [BODY_PIECE_BYTES]));
    await insertExchange(t.db, e);
    const { rows } = await t.db.query<{ method: string | null }>('select pg_column_compression(bytes) as method from exchange_body_pieces where exchange_id = $1', [e.id]);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.method))).toEqual(new Set(['lz4']));
    expect(Buffer.concat(await readAll(await exchangeBodyPieces(t.db, e.id, 300_000))).equals(text)).toBe(true);
  });

  it('stores a small body in the exchange row alone, and an empty body as empty', async () => {
    const small = exchange(Buffer.from([0xef, 0xbb, 0xbf, 0x00, 0xff, 0x3c]));
    const empty = exchange([]);
    await insertExchange(t.db, small);
    await insertExchange(t.db, empty);
    const { rows } = await t.db.query<{ n: number }>('select count(*)::int as n from exchange_body_pieces where exchange_id = any($1::uuid[])', [[small.id, empty.id]]);
    expect(rows[0]!.n).toBe(0);
    expect(Buffer.concat(await readAll(await exchangeBodyPieces(t.db, small.id, 4)))).toEqual(small.body);
    expect(await readAll(await exchangeBodyPieces(t.db, empty.id, 4))).toEqual([]);
    expect((await exchangeDocument(t.db, empty.id))!.body).toEqual(Buffer.alloc(0));
  });

  it('still reads a body stored whole before migration 0011', async () => {
    const body = randomBytes(BODY_PIECE_BYTES + 777);
    const e = exchange(Buffer.alloc(0));
    await insertExchange(t.db, e);
    await t.db.query('update exchanges set body = $2 where id = $1', [e.id, body]);
    expect(Buffer.concat(await readAll(await exchangeBodyPieces(t.db, e.id, BODY_PIECE_BYTES))).equals(body)).toBe(true);
    expect((await exchangeDocument(t.db, e.id))!.body!.equals(body)).toBe(true);
  });

  it('retention removes every piece of a body; nothing reads it afterwards', async () => {
    const e = exchange(randomBytes(BODY_PIECE_BYTES * 2 + 1));
    await insertExchange(t.db, e);
    await t.db.query("update exchanges set state = 'applied', applied_at = now() - interval '40 days' where id = $1", [e.id]);
    const removedAt = new Date();
    // Other exchanges of this file are not applied: only this one is due.
    expect(await removeDocumentsChunk(t.db, new Date(Date.now() - 30 * 86_400_000), removedAt, 10)).toBe(1);
    const { rows } = await t.db.query<{ n: number }>('select count(*)::int as n from exchange_body_pieces where exchange_id = $1', [e.id]);
    expect(rows[0]!.n).toBe(0);
    expect(await exchangeBodyPieces(t.db, e.id, BODY_PIECE_BYTES)).toBeUndefined();
    expect(await exchangeDocument(t.db, e.id)).toMatchObject({ body: null, removedAt });
    expect((await staffExchangeView(t.db, e.id))!.documentBytes).toBe(0);
  });

  it('a body whose first pieces were stored while it arrived reads back whole, the rest after them', async () => {
    const body = randomBytes(3 * BODY_PIECE_BYTES + 999);
    const e = { ...exchange([body.subarray(2 * BODY_PIECE_BYTES)]), storedPieces: 2 };
    await insertBodyPiece(t.db, e.id, 1, body.subarray(0, BODY_PIECE_BYTES));
    await insertBodyPiece(t.db, e.id, 2, body.subarray(BODY_PIECE_BYTES, 2 * BODY_PIECE_BYTES));
    await insertExchange(t.db, e);
    expect(Buffer.concat(await readAll(await exchangeBodyPieces(t.db, e.id, 300_000))).equals(body)).toBe(true);
    expect((await exchangeDocument(t.db, e.id))!.body!.equals(body)).toBe(true);
    expect((await staffExchangeView(t.db, e.id))!.documentBytes).toBe(body.length);
    // Removing "unaccepted" pieces never touches an exchange's.
    await removeUnacceptedPieces(t.db, e.id);
    expect((await exchangeDocument(t.db, e.id))!.body!.equals(body)).toBe(true);
  });

  it("pieces of no exchange are removed once a day old (a crash's); newer ones, and an exchange's, stay", async () => {
    const count = async (id: string) => (await t.db.query<{ n: number }>('select count(*)::int as n from exchange_body_pieces where exchange_id = $1', [id])).rows[0]!.n;
    const [old, fresh] = [randomUUID(), randomUUID()];
    await insertBodyPiece(t.db, old, 1, randomBytes(10));
    await insertBodyPiece(t.db, old, 2, randomBytes(10));
    await insertBodyPiece(t.db, fresh, 1, randomBytes(10));
    await t.db.query("update exchange_body_pieces set written_at = now() - interval '2 days' where exchange_id = $1", [old]);
    const kept = exchange(randomBytes(2 * BODY_PIECE_BYTES));
    await insertExchange(t.db, kept);
    await t.db.query("update exchange_body_pieces set written_at = now() - interval '2 days' where exchange_id = $1", [kept.id]);

    expect(await removeOrphanPieces(t.db)).toBe(2);
    expect([await count(old), await count(fresh), await count(kept.id)]).toEqual([0, 1, 1]);
  });
});
