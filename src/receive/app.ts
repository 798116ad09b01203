/**
 * The express application: health, the gateway's JWKS, the API description and the exchange routes under
 * PUBLIC_BASE_PATH, one problem+json for every error, one log line per request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { ping } from '../store/health.ts';
import type { EdgeContext } from './context.ts';
import { exchangesRouter } from './exchanges-routes.ts';
import { openApiDocument } from './openapi/document.ts';
import { answerErrors, sendProblem } from './problem.ts';

/** The request being handled, for the logger's mixin (server/logger.ts): each request runs in its own async context. */
const requestScope = new AsyncLocalStorage<string>();

/** The `X-Request-Id` of the request whose handling is running now, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore();
}

/** Runs `fn` outside any request's context: background work a request merely starts (the outbox relay) logs as itself. */
export function outsideRequest<T>(fn: () => T): T {
  return requestScope.exit(fn);
}

export function createApp(ctx: EdgeContext, options: { trustProxy?: string | undefined } = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = /^[A-Za-z0-9._-]{1,128}$/.test(req.get('X-Request-Id') ?? '') ? req.get('X-Request-Id')! : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      ctx.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      // Emitted outside the request's context (by the socket), so the line names it itself.
      requestScope.run(requestId, () => ctx.log.info({ method: req.method, route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, ip: req.ip }, 'request'));
    });
    // Everything the rest of the chain does, awaited or emitted, logs with this request's id.
    requestScope.run(requestId, next);
  });

  const api = express.Router();
  api.get('/healthz', (_req, res) => void res.json({ status: 'up' }));
  api.get('/readyz', async (_req, res) => {
    const extra = await ctx.readiness().catch(() => ({}));
    try {
      await ping(ctx.db);
      res.json({ status: 'ready', store: 'up', ...extra });
    } catch {
      res.status(503).json({ status: 'not ready', store: 'down', ...extra });
    }
  });
  api.get('/.well-known/jwks.json', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(await ctx.jwks());
  });
  // Built once: the description follows the code, not the request.
  const description = JSON.stringify(openApiDocument({ basePath: ctx.basePath }));
  api.get('/openapi.json', (_req, res) => void res.type('application/json').send(description));
  api.use(exchangesRouter(ctx));
  for (const router of ctx.routers) api.use(router);
  api.use((_req, res) => sendProblem(res, 'not-found', 'no such resource'));

  app.use(ctx.basePath || '/', api);
  app.use((_req: Request, res: Response) => sendProblem(res, 'not-found', 'no such resource'));
  // Express 5 passes rejected async handlers here: a GatewayError by its table row, anything else a 500 without details.
  app.use(answerErrors(ctx.log));
  return app;
}
