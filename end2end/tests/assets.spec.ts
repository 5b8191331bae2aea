import { CDPSession, Page } from '@playwright/test';
import { test, expect, hydrated, signIn } from './helpers';

// What the browser downloads of the app (the release build: hashed, precompressed, split into a
// main bundle and lazily fetched page chunks). Counted in encoded bytes on the wire, as Chromium
// reports them, so compression and the HTTP cache count exactly as a user's browser sees them.

/** The wasm bytes that crossed the network, from the moment this starts watching. */
async function wasmOnTheWire(page: Page) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const wasm = new Map<string, string>();
  // Per request: the preload and the fetch of one file are two requests, one of them served
  // from the other's bytes.
  const bytes = new Map<string, [string, number]>();
  cdp.on('Network.requestWillBeSent', (e) => {
    if (/\.wasm(\?|$)/.test(e.request.url)) wasm.set(e.requestId, e.request.url);
  });
  cdp.on('Network.loadingFinished', (e) => {
    if (wasm.has(e.requestId)) bytes.set(e.requestId, [wasm.get(e.requestId)!, e.encodedDataLength]);
  });
  return {
    total: () => [...bytes.values()].reduce((sum, [, n]) => sum + n, 0),
    files: () => [...new Set([...bytes.values()].map(([url]) => url))],
  };
}

test('a first visit downloads at most 350 KB of wasm, a repeat visit none', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'release', 'the shipped bundle only: the debug one is neither optimised nor compressed');
  const first = await wasmOnTheWire(page);
  await page.goto('/login');
  await hydrated(page);
  await signIn(page, 'maria@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  await hydrated(page);
  // Every fetch finished, none still on its way uncounted.
  await page.waitForLoadState('networkidle');
  expect(first.files().length, 'the main bundle was fetched').toBeGreaterThan(0);
  console.log(`first visit: ${first.total()} bytes of wasm in ${first.files().length} file(s)`);
  expect(first.total(), JSON.stringify(first.files())).toBeLessThanOrEqual(350_000);

  // Again, in the same browser: the hashed files are cached for good, nothing is downloaded.
  const again = await wasmOnTheWire(page);
  await page.reload();
  await hydrated(page);
  await page.waitForLoadState('networkidle');
  expect(again.total(), JSON.stringify(again.files())).toBe(0);
});

test('a page kept out of the first visit fetches its chunk when opened, and works', async ({ page }) => {
  await signIn(page, 'olga@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  await hydrated(page);
  const chunks = await wasmOnTheWire(page);
  // Client-side navigation to a lazy page: its chunk comes now, and the page is interactive.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Vehicles' })).toHaveAttribute('aria-current', 'page');
  await nav.getByRole('link', { name: 'Troubleshoot' }).click();
  await expect(page.getByRole('heading', { name: 'Troubleshoot access' })).toBeVisible();
  // The navigation follows the page the router now shows.
  await expect(nav.getByRole('link', { name: 'Troubleshoot' })).toHaveAttribute('aria-current', 'page');
  await expect(nav.getByRole('link', { name: 'Vehicles' })).not.toHaveAttribute('aria-current');
  await page.waitForLoadState('networkidle');
  expect(chunks.files().length, 'a chunk was fetched for the page').toBeGreaterThan(0);
  console.log(`opening /troubleshoot: ${chunks.total()} bytes of wasm in ${chunks.files().length} chunk(s)`);
  await page.getByLabel('User').fill('tina@acme.test');
  await page.getByLabel('Permission').selectOption('work_orders.complete');
  await page.getByRole('button', { name: 'Ask' }).click();
  await expect(page.getByRole('region', { name: 'Decision' })).toHaveText(/^Denied/);
});

test('a page whose chunk arrives late says it hydrated only once it did: the first click counts', async ({
  page,
}) => {
  await signIn(page, 'olga@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  // Every page chunk two seconds late, as on a slow link or a busy machine: the frame hydrates
  // at once, the page's own view only when its chunk is in.
  let late = 0;
  await page.route(/\/chunk_[^/]*\.wasm$/, async (route) => {
    late += 1;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await route.continue();
  });
  await page.goto('/settings');
  await hydrated(page);
  expect(late, 'the page waited for a chunk').toBeGreaterThan(0);
  // Clicked the moment the page says it is hydrated: the app saves and says so. Marked too
  // early, the click would have posted the form without the app and reloaded the page.
  await page.getByLabel('Allowed').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Support access saved.' })).toBeVisible();
});
