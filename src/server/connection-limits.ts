/**
 * The HTTP server's bounds on connections, before any request reaches express: how long a
 * client may take to send its request line and headers, how long an idle keep-alive
 * connection stays open, and how many connections one client address may hold at once.
 * Node's defaults (headers 60 s, checked only every 30 s, no cap per address) let a few
 * hundred connections that trickle header bytes hold the server.
 */
import { STATUS_CODES, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Problem } from '../receive/problem.ts';

export interface ConnectionLimits {
  headersTimeoutMs: number;
  /** The whole request, body included: a backstop behind the edge's own 408 for slow bodies. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Simultaneous connections one TCP peer address may hold. */
  perAddress: number;
}

/** A peer that does not close after an answer that ends its connection is dropped after this. */
const closeGraceMs = 1_000;

/**
 * createServer's options. Node checks the headers and request timeouts on a timer
 * (`connectionsCheckingInterval`, 30 s by default): at a quarter of the headers timeout,
 * at most a second, a slow client is closed close to the timeout, not up to 30 s later.
 */
export function serverOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // Node refuses a headers timeout longer than the request timeout.
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 4)),
  };
}

/** Sets the keep-alive timeout (Node keeps an idle socket its own second longer, so that the client, told this value, closes first). */
export function applyKeepAlive(server: Server, limits: ConnectionLimits): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
}

/**
 * Counts each peer's open connections; one over the cap is answered by `refuse` and
 * never handed to express (`isRefused`). The peer is the TCP address (`remoteAddress`),
 * never X-Forwarded-For: no header has been read when a connection opens, so behind a
 * reverse proxy every client shares the proxy's count.
 */
export function capConnectionsPerAddress(server: Server, cap: number, refuse: (socket: Socket) => void): { isRefused(socket: Socket): boolean } {
  const open = new Map<string, number>();
  const refused = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    const address = peerOf(socket);
    if (address === undefined) return void socket.destroy(); // closed before it was seen
    const count = open.get(address) ?? 0;
    if (count >= cap) {
      refused.add(socket);
      return refuse(socket);
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
  return { isRefused: (socket) => refused.has(socket) };
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one peer, whichever way the server listens. */
function peerOf(socket: Socket): string | undefined {
  const address = socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/**
 * Writes a problem as a whole HTTP answer straight to the socket (nothing of express runs
 * for it), ends the connection, and drops it if the peer has not closed a second later.
 */
export function answerAndClose(socket: Socket, { status, headers, body }: Problem): void {
  if (!socket.writable) return void socket.destroy();
  const text = JSON.stringify(body);
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'Content-Type: application/problem+json', `Content-Length: ${Buffer.byteLength(text)}`, 'Connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
  const drop = setTimeout(() => socket.destroy(), closeGraceMs).unref();
  socket.once('close', () => clearTimeout(drop));
}
