/** Structured logs (pino). Never a body, a signature or key material: ids, slugs and counts only. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, name = 'mragw'): Logger {
  return pino({ name, level, redact: { paths: ['req.headers.authorization', 'req.headers["jws-signature"]', '*.privateKey', '*.d'], censor: '[redacted]' } });
}
