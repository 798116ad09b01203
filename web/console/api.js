/**
 * The staff API as the console calls it: the bearer token from the session, JSON in and
 * out, and every refusal (application/problem+json) as an ApiError with its title,
 * status and detail for the page to show.
 */
import { apiRoot } from '../shared/api-root.js';

const root = apiRoot();
const tokenKey = 'mragw-console-token';

/** A refusal of the API, as its problem document says. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} title
   * @param {string} detail
   * @param {string} type
   */
  constructor(status, title, detail, type) {
    super(`${title} (${status}): ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
  }
}

/** The token of this tab's session (sessionStorage: gone when the tab closes, never in the URL). */
export const session = {
  /** @returns {string | null} */
  get token() {
    return sessionStorage.getItem(tokenKey);
  },
  /** @param {string | null} token */
  set token(token) {
    if (token === null) sessionStorage.removeItem(tokenKey);
    else sessionStorage.setItem(tokenKey, token);
  },
};

/**
 * Who the token names and which roles it carries, read from its payload for the page's
 * sake only (the gateway verifies it on every call).
 * @param {string} token
 * @returns {{ subject: string, roles: string[], expires: number | undefined }}
 */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(part.replaceAll('-', '+').replaceAll('_', '/')));
    const roles = [...(Array.isArray(json.roles) ? json.roles : []), ...(typeof json.scope === 'string' ? json.scope.split(' ') : [])].filter((r) => typeof r === 'string');
    return { subject: String(json.sub ?? '?'), roles, expires: typeof json.exp === 'number' ? json.exp : undefined };
  } catch {
    return { subject: '?', roles: [], expires: undefined };
  }
}

/**
 * Calls the gateway at `path` (relative to the API root), with the session's token.
 * @param {string} path e.g. `/v1/partners`
 * @param {{ method?: string, body?: unknown, query?: Record<string, string | number | undefined | null>, raw?: boolean, token?: string | null }} [options]
 * @returns {Promise<any>} the JSON answer (or the Response itself with `raw`)
 */
export async function call(path, options = {}) {
  const url = new URL(`${root}${path}`, location.origin);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json, application/problem+json' };
  const token = options.token === undefined ? session.token : options.token;
  if (token) headers['Authorization'] = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, { method: options.method ?? 'GET', headers, credentials: 'same-origin', ...(options.body !== undefined && { body: JSON.stringify(options.body) }) });
  if (!response.ok) throw await problemOf(response);
  if (options.raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/**
 * The ApiError of a refused answer.
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
async function problemOf(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try {
      const body = await response.json();
      return new ApiError(response.status, String(body.title ?? response.statusText), String(body.detail ?? ''), String(body.type ?? 'about:blank'));
    } catch {
      // fall through: not the JSON it claimed to be
    }
  }
  return new ApiError(response.status, response.statusText || 'Error', 'the gateway gave no details', 'about:blank');
}

/** The API root, for links (the queue board). */
export const apiBase = root;
