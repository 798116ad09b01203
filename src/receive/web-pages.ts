/**
 * The people's pages, served by the gateway itself from `web/` (no build step, no other
 * server): the staff console at `/console` and the public status page at `/status`.
 * Each is a static folder of HTML, CSS and browser ES modules; `web/shared/` holds what
 * both use. Every answer carries a strict Content-Security-Policy: the pages load only
 * their own scripts and talk only to this gateway.
 * `web/shared/` is served at `/shared/`, so a page's `../shared/x.js` is one file on disk and over HTTP.
 */
import { fileURLToPath } from 'node:url';
import express, { Router, type NextFunction, type Request, type Response } from 'express';

/** The `web/` folder beside `src/` (and beside `dist/` once built). */
export const webRoot = fileURLToPath(new URL('../../web/', import.meta.url));

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Serves `web/<page>/` at `/<page>/`; `/<page>` redirects there, relatively, so a PUBLIC_BASE_PATH in front is kept. */
export function webPagesRouter(pages: readonly string[] = ['status', 'console']): Router {
  const router = Router();
  // Only on the pages' own files: the API's answers and the queue dashboard set their own.
  const pageHeaders = (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
  const serve = (folder: string) => express.static(`${webRoot}${folder}`, { index: 'index.html', redirect: false, fallthrough: true, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') });
  for (const page of pages) {
    // Relative links in the page need the trailing slash; express matches `/status` and `/status/` alike.
    const bare = (url: string) => (url.split('?')[0] ?? '').endsWith(`/${page}`);
    router.use(`/${page}`, pageHeaders, (req, res, next) => (bare(req.originalUrl) ? res.redirect(302, `${page}/`) : next()), serve(page));
  }
  // `/shared/` mirrors `web/shared/` so that a page's `../shared/x.js` import names the same
  // file over HTTP and on disk, where `tsc -p web/tsconfig.json` checks it.
  router.use('/shared', pageHeaders, serve('shared'));
  return router;
}
