/**
 * The staff console in Chromium against a whole gateway that trusts the development
 * issuer: a reviewer decides a discrepancy and finds the decision in the audit log; a
 * reviewer is refused replaying a dead letter; an admin replays it and sees it delivered.
 * Any error the page throws or logs fails the test.
 */
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { launchChromium, openPage, screenshot } from '../support/browser.ts';
import { jpReceipt, until } from '../support/delivery.ts';
import { euBatch, sendAndWait } from '../support/eu-operators.ts';
import { partnerKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';

/** The C-TPAT sample, and a foreign manufacturer holding the MID a partner's record wrongly gives. */
const members = `${readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url), 'utf8').trimEnd()}
${JSON.stringify({ accountNumber: 'CT-0099001', businessType: 'FOREIGN_MANUFACTURER', legalName: 'Wronger Praezision GmbH', address: { street: '99 Kaiserkai', city: 'Hamburg', postalCode: '20457', country: 'DE' }, status: 'CERTIFIED_VALIDATED', statusDate: '2024-02-01', certifiedOn: '2019-05-06', consentToShare: true, identifiers: { mids: ['DEWRONG99HAM'], scac: null } })}
`;
const JP_URL = 'https://customs.jp.example';
const jpEntry = {
  id: 'JP',
  name: 'Japan',
  programme: 'JP-AEO',
  format: 'jp-aeo',
  mra: { outboundBusinessTypes: ['EXPORTER'] },
  keys: { algorithms: ['ES256'], jwks: { keys: [(({ d: _d, ...pub }) => ({ ...pub, alg: 'ES256', use: 'sig' }))(partnerKeys.JP.privateJwk)] } },
  delivery: { url: `${JP_URL}/aeo/inbox` },
};

let gw: TestGateway;
let browser: Browser;
let adminToken: string;
let deadId: string;
/** Japan refuses every document until told otherwise. */
let japanAccepts = false;

const asAdmin = async (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, headers: { Authorization: `Bearer ${adminToken}`, ...init.headers } });
const deliveryState = async (id: string) => ((await (await asAdmin(`/v1/deliveries/${id}`)).json()) as { state: string }).state;

beforeAll(async () => {
  [gw, browser] = await Promise.all([startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' }, partners: { jp: jpEntry } }), launchChromium()]);
  adminToken = await mintDevStaffToken(gw.dataDir, { subject: 'admin.alvarez', roles: ['admin'], ttlSeconds: 3600 });
  nock(JP_URL)
    .persist()
    .post('/aeo/inbox')
    .reply(async function (_uri, body) {
      if (!japanAccepts) return [400, { type: 'urn:mra:problem:document-invalid', title: 'Document invalid', status: 400, detail: 'line 3: unknown element' }];
      return [202, await jpReceipt(String(this.req.headers['jws-signature']), Buffer.from(body as string))];
    });
  // A MID that does not match the operator's name and address: a discrepancy to decide.
  await sendAndWait(gw, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [{ n: 1 }, { n: 2, mids: ['DEWRONG99HAM'] }] }));
  // Members sent to Japan, who refuses the document: a dead letter.
  const imported = await asAdmin('/v1/ctpat/members', { method: 'POST', body: members, headers: { 'Content-Type': 'application/x-ndjson' } });
  expect(imported.status).toBe(200);
  deadId = await until(async () => {
    const { deliveries } = (await (await asAdmin('/v1/partners/JP/deliveries')).json()) as { deliveries: { id: string; state: string }[] };
    return deliveries.find((d) => d.state === 'dead')?.id;
  });
}, 90_000);
afterAll(async () => {
  nock.cleanAll();
  await browser?.close();
  await gw?.close();
});

/** Opens the console and signs in through the development sign-in. */
async function signIn(subject: string, role: string): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(browser);
  // A step that cannot happen fails with its locator, well before the test's own timeout.
  opened.page.setDefaultTimeout(15_000);
  await opened.page.goto(`${gw.url}/console/`);
  await opened.page.getByLabel('Subject').fill(subject);
  await opened.page.getByLabel('Role').selectOption(role);
  await opened.page.getByRole('button', { name: 'Development sign-in' }).click();
  await opened.page.getByRole('heading', { name: 'Discrepancies', level: 2 }).waitFor();
  expect(opened.page.url()).not.toContain('ey'); // the token is never in the URL
  return opened;
}

describe('the staff console', () => {
  it('signs in with a pasted token only when the gateway takes it, and keeps it out of the URL', async () => {
    const { page, errors } = await openPage(browser);
    page.setDefaultTimeout(15_000);
    await page.goto(`${gw.url}/console/`);
    const feedReader = await mintDevStaffToken(gw.dataDir, { subject: 'targeting', roles: ['feed-reader'], ttlSeconds: 600 });
    await page.getByLabel(/^Staff token/).fill(feedReader);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.locator('#problem').textContent()).toMatch(/Forbidden \(403\).*reviewer or admin/);
    expect(await page.getByRole('heading', { name: 'Sign in', level: 2 }).isVisible()).toBe(true);
    const reviewer = await mintDevStaffToken(gw.dataDir, { subject: 'officer.kim', roles: ['reviewer'], ttlSeconds: 600 });
    await page.getByLabel(/^Staff token/).fill(`Bearer ${reviewer}`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Discrepancies', level: 2 }).waitFor();
    expect(await page.locator('#who-text').textContent()).toBe('officer.kim · reviewer');
    expect(page.url()).toBe(`${gw.url}/console/#/discrepancies`);
    // Admin-only links are not offered to a reviewer.
    expect(await page.getByRole('button', { name: 'Queues' }).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  });

  it('a reviewer opens a discrepancy, sees the evidence side by side, decides it with a reason and finds it in the audit log', async () => {
    const { page, errors } = await signIn('officer.jones', 'reviewer');
    const row = page.getByRole('row').filter({ hasText: 'mid-mismatch' }).first();
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: /^Discrepancy \d+: mid-mismatch$/ }).waitFor();
    await page.getByRole('heading', { name: 'MID construction' }).waitFor();
    // Focus moves to the new view's heading (a string, evaluated in the page: this project's types have no DOM).
    expect(await page.evaluate('document.activeElement?.textContent')).toMatch(/^Discrepancy \d+: mid-mismatch$/);
    await expect.poll(() => page.locator('.mid-table tr.differs').count()).toBeGreaterThan(0);
    expect(await page.getByRole('region', { name: 'C-TPAT members' }).textContent()).toContain('CT-0099001');
    // The picture starts at the discrepancy's heading: its facts, the decision, the MID construction and the evidence.
    // (A string, evaluated in the page: this project's types have no DOM.)
    await page.evaluate("window.scrollTo(0, document.querySelector('main h2').getBoundingClientRect().top + window.scrollY - 8)");
    await screenshot(page, 'console-discrepancy');

    // A decision without a reason is not sent.
    await page.getByRole('button', { name: 'Record decision' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/reason is required/i);
    await page.getByLabel('accepted').check();
    await page.getByLabel(/^Reason/).fill('MID registered before the address change');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/accepted by officer\.jones/);

    await page.getByRole('link', { name: 'Audit log' }).click();
    const entry = page.getByRole('row').filter({ hasText: 'discrepancy-accepted' });
    await entry.first().waitFor();
    expect(await entry.first().textContent()).toContain('MID registered before the address change');
    expect(await entry.first().textContent()).toContain('officer.jones');
    expect(errors).toEqual([]);
  });

  it('a reviewer is refused replaying a dead letter: the page shows the 403 and the letter stays dead', async () => {
    const { page, errors } = await signIn('officer.jones', 'reviewer');
    await page.getByRole('link', { name: 'Partners' }).click();
    const letter = page.getByRole('form', { name: /^Dead letter 1 to JP$/ });
    await letter.getByPlaceholder('Reason (required)').fill('Japan fixed its parser');
    await letter.getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => page.locator('#problem').textContent()).toMatch(/Forbidden \(403\).*admin/);
    expect(await letter.getByRole('alert').textContent()).toMatch(/403/);
    expect(await deliveryState(deadId)).toBe('dead');
    // The page's own fetch of a refused action is logged by Chromium as a failed resource; nothing else may be.
    expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  });

  it('an admin replays the dead letter from the Partners view and sees it delivered', async () => {
    const { page, errors } = await signIn('admin.alvarez', 'admin');
    await page.getByRole('link', { name: 'Partners' }).click();
    await page.getByRole('heading', { name: 'Dead letters (1)' }).waitFor();
    await screenshot(page, 'console-partners');
    japanAccepts = true;
    const letter = page.getByRole('form', { name: /^Dead letter 1 to JP$/ });
    await letter.getByPlaceholder('Reason (required)').fill('Japan fixed its parser');
    await letter.getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/replayed/);
    await expect.poll(() => page.locator(`[data-delivery="${deadId}"]`).textContent(), { timeout: 30_000 }).toBe('delivered');
    expect(await deliveryState(deadId)).toBe('delivered');

    // A full SNAPSHOT on demand needs a reason too.
    await page.getByRole('button', { name: 'Send SNAPSHOT' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Send a full SNAPSHOT now' }).getByRole('alert').textContent()).toMatch(/reason is required/);
    await page.getByLabel('Reason (required)', { exact: true }).fill('Japan rebuilt its register');
    await page.getByRole('button', { name: 'Send SNAPSHOT' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/SNAPSHOT for JP is queued/);
    expect(errors).toEqual([]);
  });

  it('an admin reads an exchange and its raw document, the recognitions with their rule, downloads a table as CSV and opens the queue board', async () => {
    const { page, errors } = await signIn('admin.alvarez', 'admin');
    await page.getByRole('link', { name: 'Exchanges' }).click();
    await page.getByRole('row').filter({ hasText: 'S1' }).getByRole('link').click();
    await page.getByRole('heading', { name: /^Exchange / }).waitFor();
    await page.getByRole('button', { name: 'Show the raw document' }).click();
    expect(await page.getByLabel('Raw document').textContent()).toContain('<AEOExchangeBatch');

    await page.getByRole('link', { name: 'Recognitions' }).click();
    const recognized = page.getByRole('row').filter({ hasText: 'DEAEOS00000001' });
    await recognized.waitFor();
    expect(await recognized.textContent()).toMatch(/recognized/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV: Recognitions' }).click()]);
    expect(download.suggestedFilename()).toBe('recognitions.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('Partner,Key,Name,State,Since,Rule,Batch,Benefits,MIDs');
    expect(csv).toContain('DEAEOS00000001');
    expect(errors).toEqual([]);

    await page.getByRole('button', { name: 'Queues' }).click();
    await page.waitForURL(/\/console\/queues\/?$/);
    await page.getByText('deliver-JP').first().waitFor();
    // Bull Board's page asks for a Google web font, which its Content-Security-Policy refuses; nothing else may fail.
    expect(errors.filter((e) => !/fonts\.googleapis\.com/.test(e))).toEqual([]);
  });
});
