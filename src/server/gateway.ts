/**
 * The composition root: reads the settings, opens the store, the registry, the keys and
 * Redis, and runs the HTTP API, the workers, or both (RUNNING.md). Stops in order on
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests and jobs, close Redis and the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Express } from 'express';
import { secondsOf, systemClock, todayOf, type Clock } from '../clock.ts';
import { isLoopback, type Settings } from '../config.ts';
import { GatewayError } from '../errors.ts';
import { acceptExchange } from '../intake/accept-exchange.ts';
import { readWhileReceiving } from '../intake/read-while-receiving.ts';
import { receiptSigner } from '../intake/receipt.ts';
import { GatewayKeys } from '../keys/gateway-keys.ts';
import { BoardQueues } from '../queue/board.ts';
import { OutboxRelay } from '../queue/outbox-relay.ts';
import { queueNames } from '../queue/jobs.ts';
import { nextSnapshotAt, QueueCounts } from '../queue/schedules.ts';
import { Workers } from '../queue/workers.ts';
import { gatewaySigningKey } from '../deliver/gateway-signing-key.ts';
import { postDocument } from '../deliver/post-document.ts';
import { defaultPolicy } from '../jobs/deliver-document.ts';
import { resolveRedis } from '../queue/embedded-redis.ts';
import { connectRedis, producerOptions } from '../queue/redis.ts';
import { createApp, outsideRequest } from '../receive/app.ts';
import { callerIdentifier } from '../receive/callers.ts';
import { consoleRouter } from '../receive/console-routes.ts';
import { toProblem } from '../receive/problem.ts';
import { PreauthBudget } from '../receive/read-body.ts';
import { RateLimits } from '../receive/rate-limits.ts';
import { Registry } from '../registry/registry.ts';
import { StaffAuth } from '../staff/staff-auth.ts';
import { deliveryRouter } from '../receive/delivery-routes.ts';
import { staffRouter } from '../receive/staff-routes.ts';
import { staffViewsRouter } from '../receive/staff-views-routes.ts';
import { statusRouter } from '../receive/status-routes.ts';
import { webPagesRouter } from '../receive/web-pages.ts';
import { statusLookup } from '../status/status-lookup.ts';
import type { Db } from '../store/db.ts';
import { instanceId } from '../store/instance.ts';
import { openStore } from '../store/open-store.ts';
import { pendingCount } from '../store/outbox.ts';
import { retainedSigningKeys } from '../store/signing-keys.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { answerAndClose, applyKeepAlive, capConnectionsPerAddress, serverOptions, type ConnectionLimits } from './connection-limits.ts';
import { createLogger } from './logger.ts';
import { hearStatusChanges } from './status-changes.ts';
import { StatusAnswerCache } from '../status/answer-cache.ts';
import { createMetrics } from './metrics.ts';

export interface GatewayRoles {
  api: boolean;
  workers: boolean;
}

export interface RunningGateway {
  /** Base URL of the HTTP API (when it runs). */
  url: string | undefined;
  metricsUrl: string | undefined;
  db: Db;
  registry: Registry;
  relay: OutboxRelay;
  /** The express application (when the API runs), so that tests can list its routes. */
  app: Express | undefined;
  /** Stops everything in order; resolves when all is closed. */
  close(): Promise<void>;
}

/** What tests may inject; never a setting of a running gateway (PROTOCOL §9). */
export interface GatewayOverrides {
  /** The one clock every component reads: the vectors run against their own `now`, rate-limit tests in a fixed minute. */
  clock?: Clock;
}

export async function startGateway(settings: Settings, roles: GatewayRoles, log: Logger = createLogger(settings.LOG_LEVEL), overrides: GatewayOverrides = {}): Promise<RunningGateway> {
  const formats = loadFormats();
  const clock = overrides.clock ?? systemClock;
  const reloadHooks: ((partners: string[]) => void)[] = [];
  const registry = new Registry({
    dir: settings.PARTNERS_DIR,
    knownFormats: new Set(formats.keys()),
    now: clock,
    onReloadError: (error) => log.error({ err: error.message }, 'partner registry: a file is invalid; the last good version stays in force'),
    onReload: (partners) => {
      log.info({ partners }, 'partner registry reloaded');
      for (const hook of reloadHooks) hook(partners);
    },
    onJwksError: (partner, error) => log.warn({ partner, err: error.message }, "a partner's JWKS could not be fetched; its last good key set stays in use"),
  });
  // Everything that can refuse the settings comes before anything that has to be closed again.
  const staff = await StaffAuth.create(
    settings.STAFF_JWKS
      ? // The settings schema requires STAFF_ISSUER and STAFF_AUDIENCE with STAFF_JWKS.
        { jwks: settings.STAFF_JWKS, issuer: settings.STAFF_ISSUER!, audience: settings.STAFF_AUDIENCE!, now: () => new Date(clock()) }
      : // ... and a loopback HOST with MRAGW_DEV_STAFF=1.
        { devIssuer: settings.MRAGW_DEV_STAFF === '1' ? { dataDir: settings.DATA_DIR } : undefined, now: () => new Date(clock()) },
  );
  const opened: (() => Promise<unknown> | void)[] = [];
  try {
    return await startOpened(settings, roles, log, { formats, registry, staff, reloadHooks, clock }, opened);
  } catch (error) {
    // A start that fails half-way closes what it opened (workers first), then says why.
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => {});
    registry.stop();
    throw error;
  }
}

async function startOpened(
  settings: Settings,
  roles: GatewayRoles,
  log: Logger,
  { formats, registry, staff, reloadHooks, clock }: { formats: ReturnType<typeof loadFormats>; registry: Registry; staff: StaffAuth; reloadHooks: ((partners: string[]) => void)[]; clock: Clock },
  opened: (() => Promise<unknown> | void)[],
): Promise<RunningGateway> {
  const db = await openStore(
    settings,
    (line) => log.debug({ postgres: line.trim() }, 'embedded PostgreSQL'),
    (level, message) => log[level](message),
  );
  opened.push(() => db.close());
  const keys = await GatewayKeys.load({
    dataDir: settings.DATA_DIR,
    minAgeDays: settings.SIGNING_KEY_MIN_AGE_DAYS,
    now: () => new Date(clock()),
    ...(settings.SIGNING_KEY_FILE && { signingKeyFile: settings.SIGNING_KEY_FILE }),
    ...(settings.SIGNING_KEYS_DIR && { signingKeysDir: settings.SIGNING_KEYS_DIR }),
  });
  // A key folder whose newest key is not yet old enough, and no older one, cannot sign: say so now, not at the first receipt.
  keys.current();
  const redisEndpoint = await resolveRedis(settings);
  opened.push(() => redisEndpoint.stop());
  const prefix = settings.QUEUE_PREFIX ?? `{mragw-${(await instanceId(db)).slice(0, 12)}}`;
  const producer = connectRedis(redisEndpoint.url, producerOptions());
  opened.push(() => producer.disconnect());
  producer.on('error', () => {}); // outages are reported by the relay and the rate limits, once each
  // Give Redis a moment to answer before the first request; a Redis that is down does not stop the start.
  await new Promise<void>((resolve) => {
    producer.once('ready', () => resolve());
    setTimeout(resolve, 2_000).unref();
  });
  const relay = new OutboxRelay(db, producer, log, prefix);
  opened.push(() => relay.stop());
  const queueCounts = new QueueCounts(producer, prefix);
  opened.push(() => queueCounts.close());
  const metrics = createMetrics({ pending: () => pendingCount(db), queueDepths: () => queueCounts.counts(queueNames(registry.partners().map((p) => p.id))) });
  let workers: Workers | undefined;
  if (roles.workers) {
    relay.start();
    const partner = (id: string) => registry.partner(id);
    const signingKey = gatewaySigningKey(keys);
    workers = new Workers(
      redisEndpoint.url,
      prefix,
      {
        apply: { db, formats, partner },
        prepare: { db, formats, partner, gatewayId: settings.GATEWAY_ID, clock, signingKey },
        deliver: {
          db,
          clock,
          policy: { ...defaultPolicy, maxAttempts: settings.DELIVERY_MAX_ATTEMPTS },
          attempt: (document) => postDocument(document, { gatewayId: settings.GATEWAY_ID, partner: registry.partner(document.partner)!, signingKey, keyOf: (p, kid) => registry.key(p, kid), clock, timeoutMs: settings.DELIVERY_TIMEOUT_S * 1000 }),
          counted: (partnerId, outcome) => metrics.deliveries.inc({ partner: partnerId, outcome }),
        },
        clock,
        retentionDays: settings.RETENTION_DAYS,
        jobFinished: (queue, outcome, seconds) => metrics.jobLatency.observe({ queue, outcome }, seconds),
      },
      log,
      settings.JOB_LOCK_S,
    );
    opened.push(() => workers?.close());
    const withDelivery = () => registry.partners().filter((p) => p.delivery !== undefined);
    const scheduleSnapshots = () =>
      workers!
        .scheduleSnapshots(withDelivery().map((p) => ({ partner: p.id, cron: p.delivery!.snapshotCron ?? settings.OUTBOUND_SNAPSHOT_CRON })))
        .catch((error: unknown) => log.warn({ err: (error as Error).message }, 'outbound SNAPSHOT schedules could not be set; they are set again at the next registry reload'));
    const ids = registry.partners().map((p) => p.id);
    workers.ensure(ids);
    await scheduleSnapshots();
    workers.startCalendar(settings.MRA_CALENDAR_CRON, ids);
    workers.startRetention();
    // A Redis that lost its data lost the schedulers too: set again, as at start.
    relay.onDataLost = () => {
      workers?.reschedule();
      void scheduleSnapshots();
    };
    // Once at start: the registry may have changed while no worker was running.
    void workers.calendarNow(ids);
    let mraSeen = mraEntries(registry);
    reloadHooks.push((partners) => {
      workers?.ensure(partners);
      void scheduleSnapshots();
      // An MRA entry changed (an end date, a scope): the calendar runs now, not at the next daily run.
      const now = mraEntries(registry);
      const changed = partners.filter((id) => now.get(id) !== mraSeen.get(id));
      mraSeen = now;
      void workers?.calendarNow(changed);
    });
  }

  // The relay's drain outlives the request that kicked it: its lines carry no request id.
  const kickRelay = roles.workers ? () => outsideRequest(() => relay.kick()) : () => {};
  const limits = new RateLimits(producer, log, prefix, clock);
  const nowSeconds = () => secondsOf(clock);
  const gatewayId = settings.GATEWAY_ID;
  const intake = { db, formats, gatewayId, receipts: receiptSigner(keys, gatewayId, nowSeconds) };
  let server: Server | undefined;
  let app: Express | undefined;
  let metricsServer: Server | undefined;
  // Status answers are kept until the store says what they were read from changed, or the registry is reloaded.
  const statusCache = new StatusAnswerCache();
  const stopHearing = roles.api ? hearStatusChanges(db, statusCache, log) : async () => {};
  opened.push(() => stopHearing());
  reloadHooks.push(() => statusCache.changed());
  const boardQueues = new BoardQueues(redisEndpoint.url, prefix);
  opened.push(() => boardQueues.close());
  if (roles.api) {
    app = createApp(
      {
        gatewayId,
        basePath: settings.PUBLIC_BASE_PATH,
        db,
        partners: registry,
        mediaTypeOf: (partner) => formats.get(partner.format)?.mediaType ?? 'application/octet-stream',
        readDocument: (partner) => readWhileReceiving(formats, partner, gatewayId),
        accept: (doc) => acceptExchange(intake, doc),
        jwks: async () => keys.jwks(await retainedSigningKeys(db)),
        limits,
        budget: new PreauthBudget(settings.PREAUTH_MAX_BYTES),
        settings: { iatSkewSeconds: settings.IAT_SKEW_S, preauthFailuresPerMinute: settings.PREAUTH_FAILURES_PER_MINUTE, bodyTimeoutMs: settings.BODY_TIMEOUT_S * 1000 },
        clock,
        readiness: async () => ({ redis: producer.status === 'ready' ? 'up' : 'down', workers: roles.workers ? 'running' : 'elsewhere', outboxPending: await pendingCount(db) }),
        // The relay is workers' work: an API-only process leaves the outbox to them.
        accepted: kickRelay,
        metrics,
        log,
        routers: [
          // Before the pages: /console/queues (Bull Board) carries its own Content-Security-Policy.
          consoleRouter({ db, staff, dataDir: settings.DATA_DIR, basePath: settings.PUBLIC_BASE_PATH, queues: () => boardQueues.adapters(registry.partners().map((p) => p.id)), now: clock }),
          webPagesRouter(),
          statusRouter({
            gatewayId,
            basePath: settings.PUBLIC_BASE_PATH,
            lookup: statusLookup(db, registry, () => todayOf(clock)),
            sign: (typ, payload) => keys.sign(typ, payload),
            identify: callerIdentifier({ gatewayId, basePath: settings.PUBLIC_BASE_PATH, partners: registry, staff, limits, iatSkewSeconds: settings.IAT_SKEW_S, preauthFailuresPerMinute: settings.PREAUTH_FAILURES_PER_MINUTE, nowSeconds }),
            limits,
            statusRequestsPerMinute: settings.STATUS_REQUESTS_PER_MINUTE,
            nowSeconds,
            cache: statusCache,
          }),
          staffRouter({ db, registry, formats, staff, queued: kickRelay, clock }),
          staffViewsRouter({ db, registry, staff }),
          deliveryRouter({ db, registry, staff, snapshotCron: settings.OUTBOUND_SNAPSHOT_CRON, nextSnapshotAt: (partnerId) => nextSnapshotAt(producer, prefix, partnerId), queued: kickRelay }),
        ],
      },
      { trustProxy: settings.TRUST_PROXY },
    );
    const connectionLimits: ConnectionLimits = {
      headersTimeoutMs: settings.HEADERS_TIMEOUT_S * 1000,
      // The edge answers a slow body itself (408, BODY_TIMEOUT_S); Node's timeout on the whole request comes after it.
      requestTimeoutMs: (settings.HEADERS_TIMEOUT_S + settings.BODY_TIMEOUT_S + 5) * 1000,
      keepAliveTimeoutMs: settings.KEEPALIVE_TIMEOUT_S * 1000,
      perAddress: settings.CONNECTIONS_PER_ADDRESS,
    };
    const expressApp = app;
    server = createServer(serverOptions(connectionLimits), (req, res) => (cap.isRefused(req.socket) ? void req.socket.destroy() : expressApp(req, res)));
    applyKeepAlive(server, connectionLimits);
    // A connection over its address's cap is answered 503 `busy` at once (PROTOCOL §3's answer to the
    // pre-authentication cap, the nearest documented one) and none of its requests reaches express.
    const cap = capConnectionsPerAddress(server, connectionLimits.perAddress, (socket) =>
      answerAndClose(socket, toProblem(new GatewayError('busy', 'too many connections from this address; close one or come back later'))),
    );
    // A request that is not readable as HTTP, or whose headers do not arrive in time, still gets a problem document.
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      // Refused, or an answer already under way (the whole-request timeout during a response): another answer would corrupt it.
      if (cap.isRefused(socket) || (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) return void socket.destroy();
      const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      answerAndClose(socket, toProblem(timedOut ? new GatewayError('request-timeout', 'the request was not received in time') : new GatewayError('bad-request', 'the request is not readable as HTTP')));
    });
    await listen(server, settings.PORT, settings.HOST);
    opened.push(() => closeServer(server!));
  }
  // Every process serves its metrics: a workers-only process has the job latencies and delivery counts.
  const metricsListener = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    metrics.registry
      .metrics()
      .then((text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text))
      .catch(() => res.writeHead(500).end());
  });
  try {
    await listen(metricsListener, settings.METRICS_PORT, settings.METRICS_HOST);
    metricsServer = metricsListener;
    opened.push(() => closeServer(metricsListener));
  } catch (error) {
    // `mragw work` beside `mragw serve` on one host, both on the default port: the workers go on without a listener.
    if (roles.api) throw error;
    log.warn({ err: (error as Error).message, metricsPort: settings.METRICS_PORT }, 'the metrics listener could not start (set METRICS_PORT for this process); the workers run without it');
  }
  registry.start();

  const url = server && `http://${hostForUrl(settings.HOST)}:${(server.address() as AddressInfo).port}${settings.PUBLIC_BASE_PATH}`;
  const metricsUrl = metricsServer && `http://${hostForUrl(settings.METRICS_HOST)}:${(metricsServer.address() as AddressInfo).port}/metrics`;
  log.info({ url, metricsUrl, staffApi: staff.source, store: db.kind, redis: redisEndpoint.url.startsWith('unix:') ? 'private redis-server' : redisEndpoint.url, gatewayId, roles }, 'gateway started');

  let closing: Promise<void> | undefined;
  return {
    url,
    metricsUrl,
    db,
    registry,
    relay,
    app,
    close: () =>
      (closing ??= (async () => {
        registry.stop();
        await Promise.all([server && closeServer(server), metricsServer && closeServer(metricsServer)]);
        await boardQueues.close();
        await relay.stop();
        await workers?.close();
        await queueCounts.close();
        producer.disconnect();
        await stopHearing();
        await db.close();
        await redisEndpoint.stop();
        log.info('gateway stopped');
      })()),
  };
}

/** Each partner's MRA entry, as text to compare across reloads. */
function mraEntries(registry: Registry): Map<string, string> {
  return new Map(registry.partners().map((p) => [p.id, JSON.stringify(p.mra)]));
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting connections and waits for in-flight requests (idle keep-alive sockets are closed). */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

export { isLoopback };
