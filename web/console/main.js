/**
 * The staff console: sign-in (a pasted bearer token, or the development sign-in when the
 * gateway trusts the development issuer), then one view at a time, switched by hash
 * routes that never carry the token (it stays in this tab's sessionStorage).
 */
import { apiBase, ApiError, call, claimsOf, session } from './api.js';
import { h, replace } from '../shared/dom.js';
import { auditView } from './views/audit.js';
import { discrepanciesView, discrepancyView } from './views/discrepancies.js';
import { exchangesView, exchangeView } from './views/exchanges.js';
import { partnersView } from './views/partners.js';
import { recognitionsView } from './views/recognitions.js';

/**
 * What every view gets: where to draw, how to report, who is signed in.
 * @typedef {object} Context
 * @property {HTMLElement} main
 * @property {(error: unknown) => void} fail shows a refusal (problem+json) or an error
 * @property {(message: string) => void} tell shows a short confirmation
 * @property {() => void} clear removes both
 * @property {string[]} roles the token's roles
 * @property {boolean} admin whether the token carries the admin role
 * @property {(title: string) => HTMLHeadingElement} heading the view's heading, focused once drawn
 */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const problem = /** @type {HTMLElement} */ (document.getElementById('problem'));
const notice = /** @type {HTMLElement} */ (document.getElementById('notice'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));
const whoText = /** @type {HTMLElement} */ (document.getElementById('who-text'));

/** @param {unknown} error */
function fail(error) {
  notice.textContent = '';
  problem.hidden = false;
  if (error instanceof ApiError) {
    const roles = claimsOf(session.token ?? '').roles;
    replace(
      problem,
      h('strong', {}, `${error.title} (${error.status})`),
      error.detail,
      error.status === 403 ? h('span', { class: 'hint' }, ` — you are signed in with the role${roles.length === 1 ? '' : 's'} ${roles.join(', ') || 'none'}.`) : null,
      error.status === 401 && session.token
        ? [h('span', { class: 'hint' }, ' — the gateway no longer takes your token (expired?). '), h('button', { type: 'button', onclick: () => signOut() }, 'Sign in again')]
        : null,
    );
  } else {
    replace(problem, h('strong', {}, 'Something went wrong'), error instanceof Error ? error.message : String(error));
  }
}
/** @param {string} message */
function tell(message) {
  problem.hidden = true;
  notice.textContent = message;
}
function clear() {
  problem.hidden = true;
  replace(problem);
  notice.textContent = '';
}

/** @returns {Context} */
function context() {
  const roles = claimsOf(session.token ?? '').roles;
  return {
    main,
    fail,
    tell,
    clear,
    roles,
    admin: roles.includes('admin'),
    heading: (title) => h('h2', { tabindex: -1 }, title),
  };
}

/** Draws the view the hash names (the discrepancy queue by default). */
async function route() {
  if (!session.token) return signIn();
  const [, view = 'discrepancies', id] = location.hash.split('/');
  const ctx = context();
  showSignedIn(ctx);
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset['view'] === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  clear();
  replace(main, h('p', { class: 'hint' }, 'Loading…'));
  try {
    if (view === 'discrepancies' && id) await discrepancyView(ctx, decodeURIComponent(id));
    else if (view === 'partners') await partnersView(ctx);
    else if (view === 'exchanges' && id) await exchangeView(ctx, decodeURIComponent(id));
    else if (view === 'exchanges') await exchangesView(ctx);
    else if (view === 'recognitions') await recognitionsView(ctx);
    else if (view === 'audit') await auditView(ctx);
    else await discrepanciesView(ctx);
  } catch (error) {
    replace(main);
    fail(error);
  }
  // Focus moves to the new view's heading, so a keyboard or screen reader user starts there.
  main.querySelector('h2')?.focus();
}

/** @param {Context} ctx */
function showSignedIn(ctx) {
  const claims = claimsOf(session.token ?? '');
  nav.hidden = false;
  who.hidden = false;
  whoText.textContent = `${claims.subject} · ${ctx.roles.join(', ') || 'no role'}`;
  for (const item of document.querySelectorAll('.admin-only')) /** @type {HTMLElement} */ (item).hidden = !ctx.admin;
}

/** The sign-in view: paste a token, or (development gateways only) sign in as anyone. */
async function signIn() {
  nav.hidden = true;
  who.hidden = true;
  const token = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'token', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false' }));
  const pasted = h(
    'form',
    {
      'aria-labelledby': 'paste-title',
      onsubmit: (event) => {
        event.preventDefault();
        void start(token.value.trim().replace(/^Bearer\s+/i, ''));
      },
    },
    h('h3', { id: 'paste-title' }, 'Sign in with a bearer token'),
    h('label', { for: 'token' }, 'Staff token (JWT from the identity provider)'),
    token,
    h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
  );
  const panels = h('div', { class: 'sign-in' }, pasted);
  replace(main, h('h2', { tabindex: -1 }, 'Sign in'), h('p', { class: 'hint' }, 'The token stays in this browser tab only and is sent to this gateway alone.'), panels);
  main.querySelector('h2')?.focus();

  /** @type {{ roles: string[] } | undefined} */
  let dev;
  try {
    dev = await call('/console/dev-token', { token: null });
  } catch {
    dev = undefined; // no development issuer: nothing to offer
  }
  if (!dev) return;
  const subject = /** @type {HTMLInputElement} */ (h('input', { id: 'dev-subject', name: 'subject', required: true, value: 'officer.dev', autocomplete: 'off' }));
  const role = /** @type {HTMLSelectElement} */ (h('select', { id: 'dev-role', name: 'role' }, dev.roles.map((r) => h('option', { value: r }, r))));
  panels.append(
    h(
      'form',
      {
        'aria-labelledby': 'dev-title',
        class: 'dev',
        onsubmit: (event) => {
          event.preventDefault();
          void (async () => {
            try {
              const minted = await call('/console/dev-token', { method: 'POST', token: null, body: { subject: subject.value.trim(), roles: [role.value] } });
              await start(minted.token);
            } catch (error) {
              fail(error);
            }
          })();
        },
      },
      h('h3', { id: 'dev-title' }, 'Development sign-in'),
      h('p', { class: 'hint' }, 'This gateway trusts its local development issuer (MRAGW_DEV_STAFF=1): sign in as anyone, with any role.'),
      h('div', { class: 'row' }, h('label', { for: 'dev-subject' }, 'Subject', subject), h('label', { for: 'dev-role' }, 'Role', role)),
      h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Development sign-in')),
    ),
  );
}

/**
 * Checks the token against the gateway, keeps it, and opens the console.
 * @param {string} token
 */
async function start(token) {
  clear();
  try {
    await call('/v1/discrepancies', { token, query: { limit: 1 } });
  } catch (error) {
    // A token the gateway refuses is not kept; a role that reads nothing here is said so.
    return fail(error);
  }
  session.token = token;
  if (location.hash === '' || location.hash === '#/') location.hash = '#/discrepancies';
  else await route();
}

/** Forgets the token (and any queue board session) and shows the sign-in. */
function signOut() {
  session.token = null;
  void call('/console/session', { method: 'DELETE', token: null }).catch(() => {});
  clear();
  window.history.replaceState(null, '', location.pathname);
  void signIn();
}

document.getElementById('sign-out')?.addEventListener('click', signOut);

document.getElementById('queues')?.addEventListener('click', async () => {
  try {
    // Bull Board cannot send the bearer token: the gateway gives an admin a short session cookie for it first.
    const opened = await call('/console/session', { method: 'POST' });
    location.assign(opened.board ?? `${apiBase}/console/queues/`);
  } catch (error) {
    fail(error);
  }
});

window.addEventListener('hashchange', () => void route());
void route();
