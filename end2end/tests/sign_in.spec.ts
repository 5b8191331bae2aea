import { test, expect, hydrated, signIn } from './helpers';

test('maria signs in, sees her vehicles, and signs out', async ({ page }) => {
  await signIn(page, 'maria@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  await expect(page.getByRole('heading', { name: 'Vehicles' })).toBeVisible();
  await expect(page.getByText('Maria Santos')).toBeVisible();
  await expect(page.getByText('Fleet Manager · Acme Logistics')).toBeVisible();
  await expect(page.getByRole('rowheader', { name: 'Box truck B-101' })).toBeVisible();
  await expect(page.getByRole('rowheader', { name: 'Tractor C-301' })).toHaveCount(0);

  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  // The session is gone: the list is out of reach again.
  await page.goto('/vehicles');
  await expect(page).toHaveURL(/\/login\?next=\/vehicles$/);
});

test('a wrong password shows the alert and no session', async ({ page }) => {
  await signIn(page, 'maria@acme.test', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('The e-mail or password is incorrect.');
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/vehicles');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('an unauthenticated visit to /vehicles lands on /login and returns after sign-in', async ({ page }) => {
  await page.goto('/vehicles');
  await expect(page).toHaveURL(/\/login\?next=\/vehicles$/);
  await hydrated(page);
  await page.getByLabel('Email').fill('tina@acme.test');
  await page.getByLabel('Password').fill('fleetgate-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/vehicles$/);
  await expect(page.getByText('Tina Nguyen')).toBeVisible();
});
