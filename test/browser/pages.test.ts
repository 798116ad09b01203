import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { launchChromium, openPage } from '../support/browser.ts';

describe('the pages are served by the gateway', () => {
  let gw: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway({ store: 'PostgreSQL' }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('redirects /status to /status/ and serves it with a strict Content-Security-Policy', async () => {
    const { page, errors } = await openPage(browser);
    const answer = await page.goto(`${gw.url}/status`);
    expect(page.url()).toBe(`${gw.url}/status/`);
    expect(answer?.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(await page.title()).toMatch(/status/i);
    expect(errors).toEqual([]);
  });
});
