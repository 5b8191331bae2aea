import { defineConfig } from '@playwright/test';

// The server under test: the binary `cargo test` built, on a fresh SQLite database with the demo
// data, serving the wasm bundle that `cargo leptos build --frontend-only` put in target/site.
const PORT = Number(process.env.FLEETGATE_E2E_PORT ?? 3100);

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    cwd: '..',
    command: `rm -rf target/e2e-data && exec ${process.env.FLEETGATE_E2E_SERVER ?? 'target/debug/server'} serve`,
    env: {
      FLEETGATE_DEMO: 'true',
      FLEETGATE_DATA_DIR: 'target/e2e-data',
      FLEETGATE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      RUST_LOG: 'warn',
    },
    url: `http://127.0.0.1:${PORT}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
