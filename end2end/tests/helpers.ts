import { test as base, expect, BrowserContext, Page } from '@playwright/test';

export { expect };

export const DEMO_PASSWORD = 'fleetgate-demo';

// What the app loads besides the HTML: the wasm bundle, its JS glue and the stylesheet.
const ASSET = /\/pkg\/|\.(js|wasm|css)(\?|$)/;

/**
 * Every test runs with the browser watched: a `pageerror` (the wasm failing to instantiate, a
 * panic), a console error, or an asset that does not load fails the test, and each page of the
 * app still open at the end must have hydrated. A broken optimiser, a server and a bundle that
 * do not hydrate together, or a missing file would otherwise pass every test that only reads
 * the server-rendered HTML.
 */
export const test = base.extend<{ browserHealth: BrowserHealth; newSession: () => Promise<Page> }>({
  browserHealth: [
    async ({ context, baseURL }, use) => {
      const health = new BrowserHealth(new URL(baseURL ?? 'http://127.0.0.1').port);
      health.watch(context);
      await use(health);
      await health.check();
    },
    { auto: true },
  ],
  // A second signed-in person needs a browser context of their own (their own cookies).
  newSession: async ({ browser, browserHealth }, use) => {
    const opened: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext();
      opened.push(context);
      browserHealth.watch(context);
      return context.newPage();
    });
    for (const context of opened) await context.close();
  },
});

export class BrowserHealth {
  private problems: string[] = [];
  private pages: Page[] = [];

  constructor(private readonly appPort: string) {}

  watch(context: BrowserContext) {
    context.pages().forEach((page) => this.watchPage(page));
    context.on('page', (page) => this.watchPage(page));
  }

  private watchPage(page: Page) {
    this.pages.push(page);
    page.on('pageerror', (error) => this.problems.push(`pageerror on ${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // An HTTP error answer is logged as "Failed to load resource". The tests that provoke one
      // (a forged request refused with 403) assert it themselves; assets are checked below.
      if (message.text().startsWith('Failed to load resource')) return;
      this.problems.push(`console error on ${page.url()}: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (ASSET.test(response.url()) && response.status() >= 400) {
        this.problems.push(`asset ${response.url()} answered ${response.status()}`);
      }
    });
    page.on('requestfailed', (request) => {
      // A navigation cancels the requests of the page it leaves; that is not a missing file.
      const error = request.failure()?.errorText ?? '';
      if (ASSET.test(request.url()) && error !== 'net::ERR_ABORTED') {
        this.problems.push(`asset ${request.url()} failed: ${error}`);
      }
    });
  }

  async check() {
    // The errors first: a page that never hydrated is explained by them.
    expect(this.problems, 'errors in the browser').toEqual([]);
    for (const page of this.pages) {
      if (page.isClosed() || !this.isApp(page.url())) continue;
      await expect(page.locator('body'), `${page.url()} hydrated`).toHaveAttribute('data-hydrated', 'true');
    }
  }

  private isApp(url: string): boolean {
    try {
      const parsed = new URL(url);
      return parsed.protocol === 'http:' && parsed.port === this.appPort;
    } catch {
      return false;
    }
  }
}

/** Waits until the wasm bundle has hydrated the page, so clicks go through the app. */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

export async function signIn(page: Page, email: string, password = DEMO_PASSWORD) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
