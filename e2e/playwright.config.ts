import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, resolveChromium } from '../scripts/lib/chromium';
import { E2E } from './stack.config';

// A real Chromium (CHROMIUM_PATH, else the system's, else the one that
// @sparticuz/chromium ships; Playwright's own download is not reachable
// everywhere) against the whole running stack: API, web, Postgres and real agents.
const chromium = await resolveChromium();
// The config is loaded again in every worker; say once which browser runs.
if (process.env.TEST_WORKER_INDEX === undefined) {
  console.log(`[e2e] browser: ${chromium.executablePath} (${chromium.source})`);
}

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  globalSetup: './global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  outputDir: '../test-results',
  reporter: [['list'], ['json', { outputFile: '../.data-test/playwright.json' }]],
  use: {
    baseURL: E2E.webUrl,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium.executablePath,
      args: CHROMIUM_ARGS,
      env: chromium.env,
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium', viewport: { width: 1440, height: 900 } } }],
});
