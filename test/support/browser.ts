/**
 * Browser tests drive Debian's Chromium (`apt-get install chromium`; `.ci/services`
 * installs it when missing) with playwright-core, which brings no browser of its own.
 * CHROMIUM_PATH points elsewhere. Screenshots go to docs/screenshots/, where the README
 * shows them.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const screenshotsDir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

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

/** Saves a screenshot as docs/screenshots/<name>.png (the README's pictures). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: `${screenshotsDir}${name}.png`, fullPage: false });
}
