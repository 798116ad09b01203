/**
 * The staff console's own server routes (the page itself is web/console/, served by
 * web-pages.ts): a development sign-in that mints a token when the gateway trusts the
 * development issuer, and Bull Board at /console/queues for admins.
 *
 * Bull Board is a server-rendered page whose browser code calls its own API, so it cannot
 * send the console's bearer token. `POST /console/session` takes the bearer token once,
 * requires the admin role, and sets a short-lived cookie valid for /console/queues only:
 * an HMAC (a random key of this process) over the subject and the expiry, so nothing is
 * stored. A restart, or another API process behind the same address, ends the session:
 * the console asks for a new one each time it opens the board.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { ExpressAdapter } from '@bull-board/express';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { issuesOf } from '../errors.ts';
import type { BoardQueueAdapter } from '../queue/board.ts';
import { recordAudit } from '../store/audit-log.ts';
import type { Db } from '../store/db.ts';
import { mintDevStaffToken } from '../staff/dev-issuer.ts';
import { rolesFor, staffRoles } from '../staff/roles.ts';
import type { StaffAuth, StaffRole } from '../staff/staff-auth.ts';
import { staffCaller } from './callers.ts';
import { typedText } from './typed-text.ts';
import { sendProblem } from './problem.ts';

export interface ConsoleRouteDeps {
  /** Verifies bearer tokens; its `source` says whether the development issuer is trusted. */
  staff: StaffAuth;
  /** DATA_DIR, where the development issuer's key is. */
  dataDir: string;
  /** PUBLIC_BASE_PATH: the cookie's path and the board's links include it. */
  basePath: string;
  /** The board's queue adapters for the gateway's partners as they now are. */
  queues(): readonly BoardQueueAdapter[];
  /** Milliseconds since the epoch (the gateway's clock). */
  now(): number;
  /** Where the console's own acts (a session opened, a job retried or removed on the board) are audited. */
  db: Db;
}

/** The roles that may open the queue board (replay, retry and clean jobs there). */
const boardRoles: readonly StaffRole[] = rolesFor.administer;

/** How long a board session lasts. */
export const sessionSeconds = 15 * 60;
/** The longest a development sign-in token lives: a working day, at most. */
export const devTokenMaxSeconds = 8 * 3600;

const cookieName = 'mragw-queues';

const DevTokenRequest = z.strictObject({
  subject: typedText(256),
  roles: z.array(z.enum(staffRoles)).min(1).max(staffRoles.length),
  ttlSeconds: z.number().int().min(60).max(devTokenMaxSeconds).optional(),
});

/**
 * Bull Board's page loads its own scripts and styles, some of its styles inline (React
 * style attributes, a loading animation), and a web font from Google that this policy
 * refuses (the page falls back to a system font). Everything else stays as strict as the
 * console's policy.
 */
const boardSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's server routes: /console/dev-token, /console/session and the queue board at /console/queues. */
export function consoleRouter(deps: ConsoleRouteDeps): Router {
  const router = Router();
  const sessionKey = randomBytes(32);
  const boardPath = `${deps.basePath}/console/queues`;

  const devIssuerOn = () => deps.staff.source === 'dev-issuer';

  /** Whether the development sign-in is offered (the console asks before showing it). */
  router.get('/console/dev-token', (_req, res) => {
    if (!devIssuerOn()) return sendProblem(res, 'not-found', 'no such resource');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ roles: staffRoles, maxSeconds: devTokenMaxSeconds });
  });

  router.post('/console/dev-token', (req, res, next) => (devIssuerOn() ? next() : sendProblem(res, 'not-found', 'no such resource')), express.json({ limit: '4kb' }), async (req, res) => {
    const body = DevTokenRequest.safeParse(req.body);
    if (!body.success) return sendProblem(res, 'bad-request', `the body must be {"subject": "…", "roles": [${staffRoles.map((r) => `"${r}"`).join(' | ')}]}`, { issues: issuesOf(body.error) });
    const ttlSeconds = body.data.ttlSeconds ?? devTokenMaxSeconds;
    const token = await mintDevStaffToken(deps.dataDir, { subject: body.data.subject, roles: body.data.roles, ttlSeconds, nowSeconds: Math.floor(deps.now() / 1000) });
    await recordAudit(deps.db, { actor: body.data.subject, action: 'dev-token-issued', subject: `staff:${body.data.subject}`, detail: { roles: body.data.roles, ttlSeconds } });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ token, expiresIn: ttlSeconds });
  });

  router.post('/console/session', async (req, res) => {
    const who = await staffCaller(deps.staff, req.get('Authorization'), boardRoles);
    const expires = Math.floor(deps.now() / 1000) + sessionSeconds;
    await recordAudit(deps.db, { actor: who.subject, action: 'queue-board-session', subject: 'queue-board', detail: { expiresAt: new Date(expires * 1000).toISOString() } });
    const cookie = [`${cookieName}=${sign(sessionKey, { sub: who.subject, exp: expires })}`, `Path=${boardPath}`, `Max-Age=${sessionSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(req.secure ? ['Secure'] : [])];
    res.setHeader('Set-Cookie', cookie.join('; '));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ subject: who.subject, expiresAt: new Date(expires * 1000).toISOString(), board: `${boardPath}/` });
  });

  router.delete('/console/session', (_req, res) => {
    res.setHeader('Set-Cookie', `${cookieName}=; Path=${boardPath}; Max-Age=0; HttpOnly; SameSite=Strict`);
    res.status(204).end();
  });

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(boardPath);
  const board = createBullBoard({ queues: [], serverAdapter, options: { uiConfig: { boardTitle: 'mra-gateway', hideDocsLink: true, miscLinks: [{ text: 'Staff console', url: `${deps.basePath}/console/` }] } } });
  (serverAdapter.getRouter() as express.Express).disable('x-powered-by');
  let shown: readonly BoardQueueAdapter[] = [];

  const withSession = (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', boardSecurityPolicy);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    const session = verify(sessionKey, cookieOf(req.get('Cookie'), cookieName), Math.floor(deps.now() / 1000));
    if (session === undefined) return sendProblem(res, 'forbidden', 'the queue board needs an admin session: sign in to the staff console as an admin and open Queues from there');
    // Reading the board is not an act; anything else on it (retry, promote, clean, remove, pause) changes jobs, and is audited first.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      recordAudit(deps.db, { actor: session.sub, action: 'queue-board-action', subject: `queue-board:${req.path}`, detail: { method: req.method } }).then(() => next(), next);
      return;
    }
    const queues = deps.queues();
    if (queues.length !== shown.length || queues.some((q, i) => q !== shown[i])) {
      board.replaceQueues(queues);
      shown = queues;
    }
    next();
  };
  router.use('/console/queues', withSession, serverAdapter.getRouter() as express.Express);

  return router;
}

interface Session {
  sub: string;
  exp: number;
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest();

/** `<payload>.<hmac>`, both base64url. */
function sign(key: Buffer, session: Session): string {
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The session a cookie value holds, if its HMAC verifies and it has not expired. */
function verify(key: Buffer, value: string | undefined, nowSeconds: number): Session | undefined {
  const [payload, tag, ...rest] = (value ?? '').split('.');
  if (payload === undefined || tag === undefined || rest.length > 0) return undefined;
  const given = Buffer.from(tag, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Session>;
    if (typeof session.sub !== 'string' || typeof session.exp !== 'number' || session.exp <= nowSeconds) return undefined;
    return { sub: session.sub, exp: session.exp };
  } catch {
    return undefined;
  }
}

/** One cookie's value from a Cookie header. */
function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
