import { test as unwatched } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, hydrated, signIn } from './helpers';

// The Content-Security-Policy allows the app's own scripts, styles and wasm only (inline scripts
// by nonce): the pages must still hydrate and work under it, with no violation reported.
test('pages hydrate and work under the Content-Security-Policy, with no violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(String(e)));
  const res = await page.goto('/login');
  const csp = res?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/'nonce-[A-Za-z0-9_-]{16,}'/);
  expect(csp).not.toContain('unsafe-inline');
  await hydrated(page);
  // Hydrated means interactive: a wrong password gets its alert from the wasm app.
  await signIn(page, 'maria@acme.test', 'not-the-password');
  await expect(page.getByRole('alert')).toContainText(/incorrect/i);
  await signIn(page, 'maria@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  await hydrated(page);
  await page.goto('/teams');
  await hydrated(page);
  expect(violations).toEqual([]);
});

// Clickjacking: another site framing the app gets nothing (frame-ancestors 'none' and
// X-Frame-Options: DENY); the twin is the same page opened directly. Not watched for console
// errors: the browser's refusal to frame the app is itself logged as one.
unwatched('another site cannot frame the app', async ({ page, baseURL }) => {
  const other = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<h1>Other site</h1><iframe id="app" src="${baseURL}/login"></iframe>`);
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const port = (other.address() as AddressInfo).port;
  try {
    const framed = page.waitForResponse((r) => r.url() === `${baseURL}/login`);
    await page.goto(`http://127.0.0.1:${port}/`);
    const answer = await framed;
    expect(answer.headers()['x-frame-options']).toBe('DENY');
    await expect(page.getByRole('heading', { name: 'Other site' })).toBeVisible();
    const frame = page.frameLocator('#app');
    // The browser refuses to render it: no sign-in form inside the frame.
    await page.waitForLoadState('load');
    await expect(frame.getByLabel('Email')).toHaveCount(0);
    await expect(frame.getByRole('button', { name: 'Sign in' })).toHaveCount(0);
  } finally {
    other.close();
  }
  // Twin: opened directly, the same page shows its form.
  await page.goto('/login');
  await expect(page.getByLabel('Email')).toBeVisible();
});
