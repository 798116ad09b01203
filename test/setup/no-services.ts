// The unit tier runs without Redis or PostgreSQL: a test there that opens a TCP
// connection belongs in the `http` or `integration` project (vitest.config.ts).
import net from 'node:net';

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const [first] = args;
  const options = typeof first === 'object' && first !== null ? (first as net.NetConnectOpts) : undefined;
  if (options === undefined || !('path' in options)) {
    throw new Error('a unit test opened a network connection: move it to the http or integration project');
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;
