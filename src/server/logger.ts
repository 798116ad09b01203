/** Structured logs (pino). Never a body, a signature or key material: ids, slugs and counts only. */
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from '../receive/app.ts';

/**
 * The gateway's logger. Every line written while a request is handled carries its
 * `requestId` (the `X-Request-Id` it was answered with), however deep the code that
 * logs: the edge runs each request in an async context the mixin reads.
 */
export function createLogger(level: string, name = 'mragw', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers["jws-signature"]', '*.privateKey', '*.d'], censor: '[redacted]' },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId === undefined ? {} : { requestId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
