/**
 * Browser tests drive Debian's Chromium (`apt-get install chromium`; `.ci/services`
 * installs it when missing) with playwright-core, which brings no browser of its own.
 * CHROMIUM_PATH points elsewhere. Screenshots are always taken; with UPDATE_SCREENSHOTS=1
 * they replace the README's pictures in docs/screenshots/ (otherwise they go to a
 * temporary folder, so that a test run leaves the checkout as it was).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const screenshotsDir =
  process.env['UPDATE_SCREENSHOTS'] === '1' ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : `${mkdtempSync(join(tmpdir(), 'mragw-screenshots-'))}/`;

/** A headless Chromium; close it in afterAll. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
}

/** A page at a laptop's size, which fails the test on any error the page itself throws or logs. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { page, errors };
}

/** Saves a screenshot as <screenshotsDir>/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: `${screenshotsDir}${name}.png`, fullPage: false });
}
