import { Page } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, signIn } from './helpers';

// A page on another site, served by Playwright itself (nothing leaves the machine).
const EVIL = 'http://evil.test';
// Boston Depot in the demo seed order (Maria may add vehicles there).
const BOSTON = '5';

function vehicleForm(name: string, vin: string): Record<string, string> {
  return { team: BOSTON, name, vin, make: 'Ford', model: 'Transit', year: '2023', plate: 'MA X1', odometer: '1' };
}

async function serveEvilPage(page: Page, body: string) {
  await page.route(`${EVIL}/**`, (route) => route.fulfill({ contentType: 'text/html', body }));
}

test('a cross-site form post with the signed-in browser is refused and writes nothing', async ({ page, baseURL }) => {
  await signIn(page, 'maria@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  const inputs = Object.entries(vehicleForm('CSRF Van', '1FTBW2CM8LKA66601'))
    .map(([k, v]) => `<input name="${k}" value="${v}">`)
    .join('');
  await serveEvilPage(
    page,
    `<form id="f" method="post" action="${baseURL}/api/vehicles/create">${inputs}</form>
     <script>document.getElementById('f').submit()</script>`,
  );
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/vehicles/create'));
  await page.goto(`${EVIL}/attack`);
  expect((await answer).status()).toBe(403);

  await page.goto('/vehicles');
  await expect(page.getByRole('rowheader', { name: 'Box truck B-101' })).toBeVisible();
  await expect(page.getByRole('rowheader', { name: 'CSRF Van' })).toHaveCount(0);
});

test('a cross-site fetch with credentials is refused; the same request from the app succeeds', async ({ page, baseURL }) => {
  await signIn(page, 'maria@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  const send = (url: string, form: Record<string, string>) =>
    page.evaluate(
      async ([url, form]) => {
        // `no-cors` + a form body is a "simple" request: the browser sends it without asking.
        await fetch(url as string, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          body: new URLSearchParams(form as Record<string, string>),
        }).catch(() => undefined);
      },
      [url, form] as const,
    );
  // A page of another site on this machine: http://localhost:<port> is not the same site as
  // http://127.0.0.1:3100. It is really served, by a server of its own (a page fulfilled by
  // Playwright would count as the public internet, and Chromium's local-network rules would
  // block the request before it reached the server, which is not what this test is about; and
  // a page of the app itself under another name carries the app's CSP, whose connect-src
  // 'self' would stop the request in the browser before the origin check is reached).
  const other = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<h1>Another site</h1>');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const port = (other.address() as AddressInfo).port;
  await page.goto(`http://localhost:${port}/`);
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/vehicles/create'));
  await send(`${baseURL}/api/vehicles/create`, vehicleForm('Fetched Van', '1FTBW2CM8LKA66602'));
  expect((await refused).status()).toBe(403);
  other.close();

  // The twin: the very same request from the app's own page goes through.
  await page.goto('/vehicles');
  const accepted = page.waitForResponse((r) => r.url().endsWith('/api/vehicles/create'));
  await send('/api/vehicles/create', vehicleForm('Same-site Van', '1FTBW2CM8LKA66603'));
  expect((await accepted).status()).toBe(200);
  await page.goto('/vehicles');
  await expect(page.getByRole('rowheader', { name: 'Same-site Van' })).toBeVisible();
  await expect(page.getByRole('rowheader', { name: 'Fetched Van' })).toHaveCount(0);
});
