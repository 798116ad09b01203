/**
 * The HTTP server's bounds on connections, over real TCP against a whole gateway: a client
 * that trickles header bytes is answered 408 and closed once the headers timeout passes, an
 * idle keep-alive connection is closed after the keep-alive timeout, and one address holds
 * at most CONNECTIONS_PER_ADDRESS connections at once; normal requests are answered
 * throughout. Short settings keep it to seconds.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const headersTimeoutS = 3;
const keepAliveTimeoutS = 1;
const perAddress = 3;

let t: TestGateway;
let port: number;

beforeAll(async () => {
  t = await startTestGateway({
    store: 'PostgreSQL',
    workers: false,
    env: { HEADERS_TIMEOUT_S: String(headersTimeoutS), KEEPALIVE_TIMEOUT_S: String(keepAliveTimeoutS), CONNECTIONS_PER_ADDRESS: String(perAddress) },
  });
  port = Number(new URL(t.url).port);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

interface Raw {
  socket: Socket;
  /** Everything the server has sent so far. */
  received(): string;
  /** Milliseconds from the connection's opening to its close, or 'open' if it is still open after `ms`. */
  closedWithin(ms: number): Promise<number | 'open'>;
}

async function connect(): Promise<Raw> {
  const socket = createConnection({ host: '127.0.0.1', port });
  const opened = Date.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => {}); // a reset is a close too
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  await once(socket, 'connect');
  return {
    socket,
    received: () => text,
    closedWithin: (ms) => Promise.race([closed, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms))]),
  };
}

/** A whole request on a fresh connection the server closes after its answer: the answer's text. */
async function ask(path = '/healthz'): Promise<string> {
  const raw = await connect();
  raw.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  expect(await raw.closedWithin(5_000)).not.toBe('open');
  return raw.received();
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1]);
const problemOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { type: string; status: number };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection bounds', () => {
  it('answers 408 and closes a connection that trickles header bytes, once the headers timeout passes, and serves others meanwhile', async () => {
    const slow = await connect();
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // A header line every 200 ms, never the blank line that ends them.
    const trickle = setInterval(() => slow.socket.writable && slow.socket.write(`X-Slow-${Date.now()}: a\r\n`), 200);
    try {
      await sleep(500);
      expect(statusOf(await ask())).toBe(200);
      const closedAfter = await slow.closedWithin(headersTimeoutS * 1000 + 2_000);
      expect(closedAfter).not.toBe('open');
      expect(closedAfter).toBeGreaterThanOrEqual(headersTimeoutS * 1000 - 200);
      expect(statusOf(slow.received())).toBe(408);
      expect(problemOf(slow.received())).toMatchObject({ type: 'urn:mra:problem:request-timeout', status: 408 });
    } finally {
      clearInterval(trickle);
      slow.socket.destroy();
    }
    expect(statusOf(await ask())).toBe(200);
  });

  it('still answers a request that is not HTTP with 400 bad-request, and closes it', async () => {
    const raw = await connect();
    raw.socket.write('NOT HTTP AT ALL\r\n\r\n');
    expect(await raw.closedWithin(2_000)).not.toBe('open');
    expect(statusOf(raw.received())).toBe(400);
    expect(problemOf(raw.received())).toMatchObject({ type: 'urn:mra:problem:bad-request', status: 400 });
  });

  it('closes an idle keep-alive connection after the keep-alive timeout, without an answer of its own', async () => {
    const idle = await connect();
    try {
      idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      while (!idle.received().includes('{"status":"up"}')) await sleep(20);
      const answered = idle.received();
      expect(statusOf(answered)).toBe(200);
      expect(answered).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
      const start = Date.now();
      // Still open at first: it is the timeout that closes it, not the answer.
      expect(await idle.closedWithin(500)).toBe('open');
      // Node keeps the socket its own second past the timeout it tells the client; well before the headers timeout.
      expect(await idle.closedWithin(keepAliveTimeoutS * 1000 + 1_500)).not.toBe('open');
      expect(Date.now() - start).toBeLessThan(headersTimeoutS * 1000);
      expect(idle.received()).toBe(answered);
    } finally {
      idle.socket.destroy();
    }
  });

  it('refuses the connection one over the cap with 503 busy while the others are open, and accepts one again after one closes', async () => {
    const held = await Promise.all(Array.from({ length: perAddress }, () => connect()));
    try {
      await sleep(200);
      const over = await connect();
      over.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect(await over.closedWithin(2_000)).not.toBe('open');
      expect(statusOf(over.received())).toBe(503);
      expect(over.received()).toMatch(/\r\nRetry-After: 1\r\n/);
      expect(problemOf(over.received())).toMatchObject({ type: 'urn:mra:problem:busy', status: 503 });
      // The held ones are untouched.
      for (const raw of held) expect(await raw.closedWithin(0)).toBe('open');

      held[0]!.socket.destroy();
      await sleep(200);
      expect(statusOf(await ask())).toBe(200);
    } finally {
      for (const raw of held) raw.socket.destroy();
    }
    await sleep(200);
    // All closed: the count is back to zero, so as many as the cap at once are served.
    const answers = await Promise.all(Array.from({ length: perAddress }, () => ask()));
    expect(answers.map(statusOf)).toEqual(Array.from({ length: perAddress }, () => 200));
  });
});
