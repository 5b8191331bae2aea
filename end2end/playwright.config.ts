import { defineConfig } from '@playwright/test';

// The servers under test, each on a fresh SQLite database with the demo data:
//   debug    the binary `cargo test` built, serving the wasm bundle that
//            `cargo leptos build --frontend-only` put in target/site;
//   release  the binary `cargo leptos build --release` built, serving the release bundle (run
//            through wasm-opt) that the same command put in target/site-release.
// FLEETGATE_E2E_BUILDS picks which (default: debug); `make test` runs both, every spec on each.
const BASE_PORT = Number(process.env.FLEETGATE_E2E_PORT ?? 3100);
const TARGET = process.env.CARGO_TARGET_DIR ?? 'target';
const BUILDS: Record<string, { port: number; site: string }> = {
  debug: { port: BASE_PORT, site: 'target/site' },
  release: { port: BASE_PORT + 10, site: 'target/site-release' },
};
const builds = (process.env.FLEETGATE_E2E_BUILDS ?? 'debug').split(',').map((b) => b.trim());
for (const build of builds) {
  if (!BUILDS[build]) throw new Error(`FLEETGATE_E2E_BUILDS: unknown build "${build}" (debug, release)`);
}
const baseURL = (build: string) => `http://127.0.0.1:${BUILDS[build].port}`;

export default defineConfig({
  testDir: './tests',
  // One folder per set of builds: `make test` runs the debug and the release suites side by side,
  // and Playwright empties its output folder when it starts.
  outputDir: `test-results/${builds.join('-')}`,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  projects: builds.map((build) => ({ name: build, use: { baseURL: baseURL(build) } })),
  use: {
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
  webServer: builds.map((build) => ({
    cwd: '..',
    command: `rm -rf target/e2e-data/${build} && exec ${TARGET}/${build}/server serve`,
    env: {
      FLEETGATE_DEMO: 'true',
      FLEETGATE_DATA_DIR: `target/e2e-data/${build}`,
      FLEETGATE_ADDR: `127.0.0.1:${BUILDS[build].port}`,
      LEPTOS_SITE_ROOT: BUILDS[build].site,
      RUST_LOG: 'warn',
    },
    url: `${baseURL(build)}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
  })),
});
