import { defineConfig } from 'vitest/config';

// Tiers (`npm test -- --project unit` and so on); `npm test` runs all four.
// - unit: pure code, no services (a connection attempt fails the test);
// - http: a whole gateway over real HTTP, on real Redis and PostgreSQL;
// - integration: the store, the queue and whole processes on real Redis and PostgreSQL.
const http = [
  'test/receive/{attacks-over-http,console-routes,exchange-rejections,exchanges,key-rotation,openapi,operations,staff-routes,status-routes,vectors-over-http}.test.ts',
  'test/status/status-commands.test.ts',
  'test/cli/partner-commands.test.ts',
  'test/deliver/inbox.test.ts',
  'test/cli/inbox-command.test.ts',
  'test/staff/ctpat-import.test.ts',
  'test/hostile/**/*.test.ts',
];
// - browser: the pages in Debian's Chromium, against a whole gateway.
const browser = ['test/browser/**/*.test.ts'];
const integration = ['test/jobs/**/*.test.ts', 'test/store/*.test.ts', 'test/server/**/*.test.ts', 'test/receive/crash.test.ts', 'test/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/setup/no-console.ts'],
    testTimeout: 20_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...http, ...integration, ...browser], setupFiles: ['test/setup/no-services.ts'] } },
      { extends: true, test: { name: 'http', include: http } },
      { extends: true, test: { name: 'integration', include: integration } },
      { extends: true, test: { name: 'browser', include: browser, testTimeout: 60_000 } },
    ],
  },
});
