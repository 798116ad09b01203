/**
 * The public status page (/status/) in Chromium against a whole gateway on PostgreSQL:
 * an EU operator made recognized by a signed SNAPSHOT is shown with its assertion
 * verified in the browser; a tampered assertion pasted in is not verified; an unknown,
 * a malformed and a withheld identifier read exactly alike; 429 says when to try again.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot } from '../support/browser.ts';
import { euBatch, euKey, sendAndWait } from '../support/eu-operators.ts';
import { GATEWAY_ID, startTestGateway, type TestGateway } from '../support/gateway.ts';

const recognized = { n: 1, name: 'Elbe Hafen Logistik GmbH', effective: '2021-03-01' };
const withdrawnConsent = { n: 3, consent: false };

let gw: TestGateway;
let browser: Browser;
let kid: string;
/** The gateway's receipt for the SNAPSHOT: signed with the same key, but typ mra-receipt+jwt. */
let receipt: string;

beforeAll(async () => {
  [gw, browser] = await Promise.all([startTestGateway({ store: 'PostgreSQL' }), launchChromium()]);
  ({ receipt } = await sendAndWait(gw, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [recognized, withdrawnConsent] })));
  const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  kid = jwks.keys[0]!.kid;
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/**
 * Errors the page threw or logged. Chromium logs every 4xx answer to a fetch as a console
 * error; a 404 or 429 from the status API is the answer under test, not the page failing.
 */
const pageErrors = (errors: string[]) => errors.filter((e) => !/^Failed to load resource: the server responded with a status of (404|429)\b/.test(e));

async function open(): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(browser);
  await opened.page.goto(`${gw.url}/status/`);
  return opened;
}

/** Looks an identifier up with the keyboard only, and returns the result region's text once it settled. */
async function lookUp(page: Page, scheme: string, id: string): Promise<string> {
  await page.selectOption('#scheme', scheme);
  await page.fill('#identifier', id);
  await page.focus('#identifier');
  await page.keyboard.press('Enter');
  const region = page.locator('#lookup-result');
  await region.locator('.result, .message').waitFor();
  return (await region.innerText()).trim();
}

async function checkPasted(page: Page, assertion: string): Promise<string> {
  await page.fill('#assertion', assertion);
  await page.click('#paste-button');
  const region = page.locator('#paste-result');
  await region.locator('.result, .message').waitFor();
  return (await region.innerText()).trim();
}

async function anonymousAssertion(id: string): Promise<string> {
  const response = await fetch(`${gw.url}/v1/status/eu-aeo/${id}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { assertion: string }).assertion;
}

describe('the public status page', () => {
  it('shows a recognized operator, its signature verified in the browser against the published key', async () => {
    const { page, errors } = await open();
    expect(await page.getAttribute('#identifier', 'autocomplete')).toBe('off');
    const text = await lookUp(page, 'eu-aeo', euKey(recognized).toLowerCase());
    expect(text).toContain(`Signature verified in your browser against the gateway's published key ${kid}.`);
    expect(text).toContain(`eu-aeo:${euKey(recognized)}`);
    expect(text).toContain('EU-AEO');
    expect(text).toContain('active');
    expect(text).toContain('2021-03-01');
    const row = (await page.locator('#lookup-result table.recognitions tbody tr').first().innerText()).split('\t').map((cell) => cell.trim());
    expect(row).toEqual([GATEWAY_ID, 'recognized', '2021-03-01']);
    expect(await page.getAttribute('#lookup-result', 'aria-live')).toBe('polite');
    await screenshot(page, 'status-page');
    expect(errors).toEqual([]);
  });

  it('reads an unknown, a malformed and a withheld (consent withdrawn) identifier with one and the same text', async () => {
    expect((await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(withdrawnConsent)}`)).status).toBe(404);
    const { page, errors } = await open();
    const unknown = await lookUp(page, 'eu-aeo', 'DEAEOS99999999');
    const withheld = await lookUp(page, 'eu-aeo', euKey(withdrawnConsent));
    const malformed = await lookUp(page, 'eu-aeo', 'not an id');
    const withheldByEori = await lookUp(page, 'eori', `DE${String(withdrawnConsent.n).padStart(12, '0')}`);
    expect(unknown).toMatch(/^Not found\./);
    expect(withheld).toBe(unknown);
    expect(malformed).toBe(unknown);
    expect(withheldByEori).toBe(unknown);
    expect(unknown).not.toContain(euKey(withdrawnConsent));
    // Nothing was kept that could list or suggest identifiers.
    expect(page.url()).toBe(`${gw.url}/status/`);
    expect(await page.evaluate('[localStorage.length, sessionStorage.length]')).toEqual([0, 0]);
    expect(pageErrors(errors)).toEqual([]);
  });

  it('asks the API anonymously: no credentials, no Authorization header', async () => {
    const { page, errors } = await open();
    const request = page.waitForRequest((r) => r.url().includes('/v1/status/'));
    await lookUp(page, 'eu-aeo', euKey(recognized));
    const headers = await (await request).allHeaders();
    expect(headers['authorization']).toBeUndefined();
    expect(headers['cookie']).toBeUndefined();
    expect(pageErrors(errors)).toEqual([]);
  });

  it('does not vouch for an answer whose subject differs from what its assertion says', async () => {
    const { page, errors } = await open();
    const assertion = await anonymousAssertion(euKey(recognized));
    const { iss: _iss, iat: _iat, exp: _exp, ...signed } = JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    await page.route('**/v1/status/**', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ subject: { ...signed, status: 'revoked' }, assertion }) }));
    const text = await lookUp(page, 'eu-aeo', euKey(recognized));
    expect(text).toContain('Signature NOT verified.');
    expect(text).toContain('does not say what the status below shows');
    expect(text).not.toContain('verified in your browser');
    expect(pageErrors(errors)).toEqual([]);
  });

  it('says how long to wait after too many look-ups (429 Retry-After)', async () => {
    const { page, errors } = await open();
    await page.route('**/v1/status/**', (route) =>
      route.fulfill({ status: 429, headers: { 'Retry-After': '17', 'Content-Type': 'application/problem+json' }, body: JSON.stringify({ type: 'urn:mra:problem:rate-limited', title: 'Too many requests', status: 429 }) }),
    );
    expect(await lookUp(page, 'eu-aeo', euKey(recognized))).toBe('Too many look-ups from your address. Try again in 17 s.');
    expect(pageErrors(errors)).toEqual([]);
  });

  it('verifies a pasted assertion, and refuses it once a payload character is changed', async () => {
    const { page, errors } = await open();
    const assertion = await anonymousAssertion(euKey(recognized));
    const good = await checkPasted(page, assertion);
    expect(good).toContain(`Signature verified in your browser against the gateway's published key ${kid}.`);
    expect(good).toContain(`eu-aeo:${euKey(recognized)}`);

    const [header, payload = '', signature] = assertion.split('.');
    const payloadJson = Buffer.from(payload, 'base64url').toString('utf8');
    const forged = Buffer.from(payloadJson.replace('"active"', '"activf"')).toString('base64url');
    expect(forged).not.toBe(payload);
    const tampered = await checkPasted(page, `${header}.${forged}.${signature}`);
    expect(tampered).toContain('Signature NOT verified.');
    expect(tampered).toContain('Bad signature');
    expect(tampered).toContain('not verified: do not rely on it');
    expect(tampered).not.toContain('verified in your browser');
    await screenshot(page, 'status-page-pasted');
    expect(pageErrors(errors)).toEqual([]);
  });

  it('refuses pasted text that is not an assertion, or a receipt passed off as one', async () => {
    const { page, errors } = await open();
    expect(await checkPasted(page, 'hello.world')).toContain('Malformed');
    const [, payload = '', signature] = (await anonymousAssertion(euKey(recognized))).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'mra-status+jwt', kid })).toString('base64url')}.${payload}.`;
    expect(await checkPasted(page, none)).toContain('Algorithm not allowed');
    const otherKid = `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'mra-status+jwt', kid: 'not-published' })).toString('base64url')}.${payload}.${signature}`;
    expect(await checkPasted(page, otherKid)).toContain('Unknown key');
    expect(await checkPasted(page, receipt)).toContain('Wrong type: The type is "mra-receipt+jwt", not "mra-status+jwt".');
    expect(pageErrors(errors)).toEqual([]);
  });

  it('is usable with the keyboard alone: labelled fields in order', async () => {
    const { page, errors } = await open();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      // A string, evaluated in the page: this project's types have no DOM.
      order.push(String(await page.evaluate("document.activeElement?.id || document.activeElement?.className || ''")));
    }
    expect(order).toEqual(['skip-link', 'scheme', 'identifier', 'lookup-button', 'assertion', 'paste-button']);
    for (const id of ['scheme', 'identifier', 'assertion']) expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    expect(pageErrors(errors)).toEqual([]);
  });
});
