// @ts-check
/**
 * The public status page: looks one identifier up anonymously, exactly as any caller of
 * `GET /v1/status/{scheme}/{id}` would (PROTOCOL.md §5), and checks the gateway's signed
 * assertion in the browser; a second form checks an assertion someone handed over.
 *
 * What it must not do: tell an unknown, a malformed and a withheld identifier apart (one
 * "not found" text, the identifier never echoed), check identifier syntax itself, or keep
 * or offer any identifier (no history, no suggestions, nothing in the address bar).
 */
import { apiRoot } from '../shared/api-root.js';
import { byId, h } from '../shared/dom.js';
import { isoTime, STATUS_TYP, verifyAssertion } from '../shared/verify-assertion.js';

/** @typedef {import('../shared/verify-assertion.js').Verification} Verification */
/** @typedef {import('../shared/verify-assertion.js').Jwks} Jwks */
/** @typedef {{ authority?: unknown, state?: unknown, since?: unknown, record?: unknown, benefits?: unknown }} Recognition */

const root = apiRoot();

/** The one answer for every miss: the API answers them alike, and so does the page. */
export const NOT_FOUND_TEXT = 'Not found. The gateway gives no status for this identifier. Check the kind of identifier and every character, or ask the trader for its certification details.';

/** Members of a status assertion that say who signed it and when, not what it is about. */
const envelopeMembers = ['iss', 'iat', 'exp'];

const lookupForm = /** @type {HTMLFormElement} */ (byId('lookup-form'));
const scheme = /** @type {HTMLSelectElement} */ (byId('scheme'));
const identifier = /** @type {HTMLInputElement} */ (byId('identifier'));
const lookupButton = /** @type {HTMLButtonElement} */ (byId('lookup-button'));
const lookupResult = byId('lookup-result');
const pasteForm = /** @type {HTMLFormElement} */ (byId('paste-form'));
const pasted = /** @type {HTMLTextAreaElement} */ (byId('assertion'));
const pasteButton = /** @type {HTMLButtonElement} */ (byId('paste-button'));
const pasteResult = byId('paste-result');

lookupForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void busy(lookupButton, lookupResult, lookUp);
});
pasteForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void busy(pasteButton, pasteResult, checkPasted);
});

/**
 * Runs one action with its button disabled, its result region cleared first and filled after.
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} region
 * @param {() => Promise<Node>} action
 */
async function busy(button, region, action) {
  button.disabled = true;
  region.replaceChildren(h('p', { class: 'working' }, 'Checking…'));
  try {
    region.replaceChildren(await action());
  } catch {
    region.replaceChildren(message('error', 'Something went wrong on this page. Reload it and try again.'));
  } finally {
    button.disabled = false;
  }
}

/** @returns {Promise<Node>} */
async function lookUp() {
  const id = identifier.value.trim();
  if (id === '') return message('error', 'Enter an identifier.');
  let response;
  try {
    response = await fetch(`${root}/v1/status/${encodeURIComponent(scheme.value)}/${encodeURIComponent(id)}`, {
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      headers: { Accept: 'application/json' },
    });
  } catch {
    return message('error', 'The gateway could not be reached. Check your connection and try again.');
  }
  if (response.status === 404) return message('not-found', NOT_FOUND_TEXT);
  if (response.status === 429) {
    const seconds = retryAfterSeconds(response.headers.get('Retry-After'));
    return message('error', `Too many look-ups from your address. Try again in ${seconds} s.`);
  }
  if (!response.ok) return message('error', `The gateway could not answer (HTTP ${response.status}). Try again later.`);
  /** @type {unknown} */
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const answer = /** @type {{ subject?: unknown, assertion?: unknown } | undefined} */ (body);
  if (!isObject(answer?.subject) || typeof answer?.assertion !== 'string') return message('error', 'The gateway answered something that is not a status. Try again later.');
  const subject = answer.subject;
  const assertion = answer.assertion;

  const verification = await verifyWithPublishedKeys(assertion);
  const matches = verification.ok && sameJson(withoutEnvelope(verification.claims), subject);
  return h(
    'article',
    { class: 'result', 'aria-labelledby': 'lookup-result-heading' },
    h('h3', { id: 'lookup-result-heading' }, 'Status found'),
    verdict(verification, matches ? undefined : 'The signed assertion does not say what the status below shows; do not rely on it.'),
    subjectFacts(subject),
    recognitionsTable(subject['recognitions']),
    h('details', { class: 'assertion' }, h('summary', {}, 'Show the signed assertion, to pass on'), h('textarea', { readonly: true, rows: '4', spellcheck: 'false', 'aria-label': 'Signed status assertion' }, assertion)),
  );
}

/** @returns {Promise<Node>} */
async function checkPasted() {
  const text = pasted.value.trim();
  if (text === '') return message('error', 'Paste an assertion first.');
  const verification = await verifyWithPublishedKeys(text);
  const claims = verification.claims;
  return h(
    'article',
    { class: 'result', 'aria-labelledby': 'paste-result-heading' },
    h('h3', { id: 'paste-result-heading' }, 'Assertion checked'),
    verdict(verification),
    claims === undefined
      ? h('p', {}, 'Nothing in it could be read.')
      : [
          h('h4', {}, verification.ok ? 'What it says' : 'What it claims (not verified: do not rely on it)'),
          subjectFacts(withoutEnvelope(claims)),
          recognitionsTable(claims['recognitions']),
          envelopeFacts(claims, verification.header),
        ],
  );
}

/**
 * Verifies against the gateway's published keys; a key not (yet) in a cached copy gets one fresh fetch.
 * @param {string} jws
 * @returns {Promise<Verification>}
 */
async function verifyWithPublishedKeys(jws) {
  const now = Date.now() / 1000;
  let jwks = await publishedKeys('default');
  if (jwks === undefined) return { ok: false, code: 'unknown-key', message: "The gateway's published keys could not be fetched, so the signature was not checked." };
  let verification = await verifyAssertion(jws, jwks, now, { typ: STATUS_TYP });
  if (!verification.ok && verification.code === 'unknown-key') {
    jwks = await publishedKeys('reload');
    if (jwks !== undefined) verification = await verifyAssertion(jws, jwks, now, { typ: STATUS_TYP });
  }
  return verification;
}

/**
 * @param {RequestCache} cache
 * @returns {Promise<Jwks | undefined>}
 */
async function publishedKeys(cache) {
  try {
    const response = await fetch(`${root}/.well-known/jwks.json`, { credentials: 'omit', cache, referrerPolicy: 'no-referrer' });
    if (!response.ok) return undefined;
    const jwks = /** @type {unknown} */ (await response.json());
    return isObject(jwks) && Array.isArray(jwks['keys']) ? /** @type {Jwks} */ (jwks) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The plain verdict: verified with which key, or not verified and why.
 * @param {Verification} verification
 * @param {string} [mismatch] set when the signature holds but the assertion disagrees with what is shown
 * @returns {HTMLElement}
 */
function verdict(verification, mismatch) {
  if (verification.ok && mismatch === undefined) {
    const exp = verification.claims['exp'];
    return h(
      'div',
      { class: 'verdict verdict-ok' },
      h('p', { class: 'verdict-title' }, h('span', { class: 'verdict-mark', 'aria-hidden': 'true' }, '✓'), ' Signature verified in your browser against the gateway\'s published key ', h('code', {}, verification.kid), '.'),
      h('p', {}, `Signed with ${verification.alg}; valid until ${typeof exp === 'number' ? isoTime(exp) : '?'}.`),
    );
  }
  return h(
    'div',
    { class: 'verdict verdict-bad' },
    h('p', { class: 'verdict-title' }, h('span', { class: 'verdict-mark', 'aria-hidden': 'true' }, '✗'), ' Signature NOT verified.'),
    h('p', {}, verification.ok ? (mismatch ?? '') : `${reasonTitle[verification.code]}: ${verification.message}`),
  );
}

/** @type {Record<import('../shared/verify-assertion.js').RefusalCode, string>} */
const reasonTitle = {
  malformed: 'Malformed',
  'alg-not-allowed': 'Algorithm not allowed',
  'wrong-typ': 'Wrong type',
  'unknown-key': 'Unknown key',
  'bad-signature': 'Bad signature',
  expired: 'Expired',
  'not-yet-valid': 'Not yet valid',
};

/**
 * Subject, programme, status and its date, then any further member (an assertion a partner was given discloses more).
 * @param {Record<string, unknown>} subject
 * @returns {HTMLElement}
 */
function subjectFacts(subject) {
  const known = ['sub', 'programme', 'status', 'statusEffective', 'recognitions'];
  const status = subject['status'];
  return h(
    'dl',
    { class: 'facts' },
    fact('Subject', h('code', {}, text(subject['sub']))),
    fact('Programme', text(subject['programme'])),
    fact('Status', h('span', { class: `badge badge-${badgeClass(status)}` }, text(status))),
    fact('Status effective', text(subject['statusEffective'])),
    Object.entries(subject)
      .filter(([name]) => !known.includes(name) && !envelopeMembers.includes(name))
      .map(([name, value]) => fact(name, text(value))),
  );
}

/**
 * Who signed the assertion, when, and with which key (the pasted section shows them).
 * @param {Record<string, unknown>} claims
 * @param {import('../shared/verify-assertion.js').ProtectedHeader | undefined} header
 * @returns {HTMLElement}
 */
function envelopeFacts(claims, header) {
  const time = (/** @type {unknown} */ t) => (typeof t === 'number' ? isoTime(t) : text(t));
  return h(
    'dl',
    { class: 'facts facts-small' },
    fact('Issued by', text(claims['iss'])),
    fact('Issued at', time(claims['iat'])),
    fact('Expires', time(claims['exp'])),
    header === undefined ? null : fact('Key, algorithm, type', `${text(header.kid)}, ${text(header.alg)}, ${text(header.typ)}`),
  );
}

/**
 * @param {string} term
 * @param {Node | string} value
 * @returns {HTMLElement}
 */
function fact(term, value) {
  return h('div', { class: 'fact' }, h('dt', {}, term), h('dd', {}, value));
}

/**
 * @param {unknown} recognitions
 * @returns {HTMLElement}
 */
function recognitionsTable(recognitions) {
  const rows = /** @type {Recognition[]} */ (Array.isArray(recognitions) ? recognitions.filter(isObject) : []);
  if (rows.length === 0) return h('p', { class: 'no-recognitions' }, 'No recognitions.');
  // A partner's own or staff's assertion, pasted here, also names each record and its benefits.
  const withRecord = rows.some((r) => r.record !== undefined);
  const withBenefits = rows.some((r) => r.benefits !== undefined);
  return h(
    'table',
    { class: 'recognitions' },
    h('caption', {}, 'Recognitions'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Authority'), withRecord && h('th', { scope: 'col' }, 'Record'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Since'), withBenefits && h('th', { scope: 'col' }, 'Benefits'))),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          h('td', {}, text(r.authority)),
          withRecord && h('td', {}, h('code', {}, text(r.record))),
          h('td', {}, h('span', { class: `badge badge-${badgeClass(r.state)}` }, text(r.state))),
          h('td', {}, text(r.since)),
          withBenefits && h('td', {}, Array.isArray(r.benefits) ? r.benefits.map(text).join(', ') || 'none' : text(r.benefits)),
        ),
      ),
    ),
  );
}

/**
 * A colour family for a status or recognition state.
 * @param {unknown} value
 * @returns {'good' | 'warn' | 'bad' | 'neutral'}
 */
function badgeClass(value) {
  switch (value) {
    case 'active':
    case 'recognized':
      return 'good';
    case 'suspended':
      return 'warn';
    case 'revoked':
      return 'bad';
    default:
      return 'neutral';
  }
}

/**
 * @param {'error' | 'not-found'} kind
 * @param {string} words
 * @returns {HTMLElement}
 */
function message(kind, words) {
  return h('p', { class: `message message-${kind}` }, words);
}

/**
 * A value for display: strings as they are, anything else as JSON, absent as a dash.
 * @param {unknown} value
 * @returns {string}
 */
function text(value) {
  if (value === undefined || value === null) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Seconds to wait from a Retry-After header (seconds or an HTTP date); at least 1.
 * @param {string | null} header
 * @returns {number}
 */
function retryAfterSeconds(header) {
  if (header === null) return 60;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : Math.ceil((Date.parse(header) - Date.now()) / 1000);
  return Number.isFinite(seconds) ? Math.max(1, seconds) : 60;
}

/**
 * @param {Record<string, unknown>} claims
 * @returns {Record<string, unknown>}
 */
function withoutEnvelope(claims) {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !envelopeMembers.includes(name)));
}

/**
 * Same JSON value, whatever the order of object members.
 * @param {unknown} a
 * @param {unknown} b
 * @returns {boolean}
 */
function sameJson(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return a === b;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
