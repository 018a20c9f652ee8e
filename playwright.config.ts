import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// The whole product as `npm start` runs it (emulator + BFF + built console), on test ports
// and a fresh emulator data dir. Nothing is mocked.
export const E2E_DATA_DIR = join(import.meta.dirname, 'test-results', 'e2e-hub');
/** The second stack: `npm start -- --sign-in` (dev identity provider, three demo users). */
export const E2E_SIGN_IN_DATA_DIR = join(import.meta.dirname, 'test-results', 'e2e-hub-sign-in');
const port = 3107;
const signInPort = 3108;
const systemChromium =
  process.env['CHROMIUM_PATH'] ??
  (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export default defineConfig({
  testDir: './e2e',
  // Specs only: e2e/built/*.test.mjs runs under node --test (the built product, started as an
  // operator would).
  testMatch: /\.spec\.ts$/,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      // System Chromium (Playwright cannot download its own here); none means Playwright's.
      ...(systemChromium ? { executablePath: systemChromium } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    { name: 'local', testIgnore: /sign-in\.spec\.ts/ },
    {
      name: 'sign-in',
      testMatch: /sign-in\.spec\.ts/,
      // The dev identity provider's certificate comes from the emulator's own CA.
      use: { baseURL: `http://127.0.0.1:${signInPort}`, ignoreHTTPSErrors: true },
    },
  ],
  webServer: [
    {
      command: 'node e2e/start-for-tests.mjs',
      url: `http://127.0.0.1:${port}/api/health`,
      timeout: 60_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 3000 },
      env: {
        TWINSCOPE_PORT: String(port),
        TWINSCOPE_EMULATOR_PORT: '18443',
        TWINSCOPE_EMULATOR_MQTT_PORT: '18883',
        TWINSCOPE_EMULATOR_AMQP_PORT: '15672',
        TWINSCOPE_EMULATOR_AMQPS_PORT: '15671',
        TWINSCOPE_EMULATOR_DATA_DIR: E2E_DATA_DIR,
        TWINSCOPE_POLL_INTERVAL_MS: '400',
        TWINSCOPE_POLL_QUERIES_PER_MINUTE: '600',
      },
    },
    {
      command: 'node e2e/start-for-tests.mjs --sign-in',
      url: `http://127.0.0.1:${signInPort}/api/health`,
      timeout: 60_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 3000 },
      env: {
        TWINSCOPE_PORT: String(signInPort),
        TWINSCOPE_EMULATOR_PORT: '28443',
        TWINSCOPE_EMULATOR_MQTT_PORT: '28883',
        TWINSCOPE_EMULATOR_AMQP_PORT: '25672',
        TWINSCOPE_EMULATOR_AMQPS_PORT: '25671',
        TWINSCOPE_DEV_IDP_PORT: '14443',
        TWINSCOPE_EMULATOR_DATA_DIR: E2E_SIGN_IN_DATA_DIR,
        TWINSCOPE_POLL_INTERVAL_MS: '400',
        TWINSCOPE_POLL_QUERIES_PER_MINUTE: '600',
      },
    },
  ],
});
