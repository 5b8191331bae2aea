import { Page } from '@playwright/test';
import { test, expect, hydrated, signIn } from './helpers';

// One server and database for the file: the steps build on each other (Maria's grant changes
// what Tina may do), so they run in order.
test.describe.configure({ mode: 'serial' });

async function openWorkOrder(page: Page, title: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Work orders' }).click();
  await page.getByRole('link', { name: title }).click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await hydrated(page);
}

test('tina sees Complete greyed out, with the permission, the scope and who grants it', async ({ page }) => {
  await signIn(page, 'tina@acme.test');
  await openWorkOrder(page, 'Replace front brake pads');
  const complete = page.getByRole('button', { name: 'Complete' });
  await expect(complete).toBeVisible();
  await expect(complete).toBeDisabled();
  await expect(complete).toHaveAccessibleDescription(/work_orders\.complete/);
  await expect(complete).toHaveAccessibleDescription(/Boston Depot/);
  await expect(complete).toHaveAccessibleDescription(/Northeast Region/);
  await expect(complete).toHaveAttribute('title', /work_orders\.complete/);
  // What she may do stays enabled.
  await expect(page.getByRole('button', { name: 'Start work' })).toBeEnabled();
});

test('dan completes a Denver work order', async ({ page }) => {
  await signIn(page, 'dan@acme.test');
  await openWorkOrder(page, 'Check engine light');
  await page.getByRole('button', { name: 'Complete' }).click();
  await expect(page.locator('.facts .status')).toHaveText('Completed');
  await expect(page.getByRole('button', { name: 'Complete' })).toHaveCount(0);
});

test('maria cannot grant outside what she holds', async ({ page }) => {
  await signIn(page, 'maria@acme.test');
  await page.getByRole('link', { name: 'Teams' }).click();
  await expect(page.getByRole('rowheader', { name: 'Boston Depot' })).toBeVisible();
  // Denver is outside her subtree: not in her matrix, and the server refuses a forged request.
  // (Team ids follow the demo seed order: 5 is Boston Depot, 7 Denver Depot.)
  await expect(page.getByRole('rowheader', { name: 'Denver Depot' })).toHaveCount(0);
  const res = await page.request.post('/api/permissions/grant', {
    headers: { Origin: new URL(page.url()).origin },
    form: { team: '7', permission: 'work_orders.complete' },
  });
  expect(res.status()).toBe(403);
  expect(await res.text()).toContain('permissions.grant');
  const operatorOnly = await page.request.post('/api/permissions/grant', {
    headers: { Origin: new URL(page.url()).origin },
    form: { team: '5', permission: 'users.impersonate' },
  });
  expect(operatorOnly.status()).toBe(403);
  expect(await operatorOnly.text()).toContain('reserved for the operator');
});

test('maria grants work_orders.complete to Boston Depot, then tina completes hers', async ({ newSession }) => {
  const maria = await newSession();
  await signIn(maria, 'maria@acme.test');
  await maria.getByRole('link', { name: 'Teams' }).click();
  const cell = maria.getByRole('checkbox', { name: 'work_orders.complete on Boston Depot' });
  await expect(cell).not.toBeChecked();
  await hydrated(maria);
  await cell.check();
  await expect(cell).toBeChecked();
  // The box ticks at once; the reload must wait until the server has taken the grant.
  await expect(maria.getByRole('status').filter({ hasText: 'Granted' })).toHaveText(
    'Granted work_orders.complete to Boston Depot.',
  );
  await maria.reload();
  await expect(maria.getByRole('checkbox', { name: 'work_orders.complete on Boston Depot' })).toBeChecked();

  const tina = await newSession();
  await signIn(tina, 'tina@acme.test');
  await openWorkOrder(tina, 'Replace front brake pads');
  const complete = tina.getByRole('button', { name: 'Complete' });
  await expect(complete).toBeEnabled();
  await complete.click();
  await expect(tina.locator('.facts .status')).toHaveText('Completed');
});

test('gary sees none of Acme, and an Acme vehicle is "not found" for him', async ({ page }) => {
  await signIn(page, 'gary@globex.test');
  await expect(page.getByRole('rowheader', { name: 'Tractor C-301' })).toBeVisible();
  await expect(page.getByRole('rowheader', { name: /Box truck|Van B-|Van D-|Pickup/ })).toHaveCount(0);
  await page.goto('/vehicles/1');
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText('Vehicle was not found.');
});

test('my access lists each permission with the team it comes from', async ({ page }) => {
  await signIn(page, 'tina@acme.test');
  await page.getByRole('link', { name: 'My access' }).click();
  const boston = page.getByRole('region', { name: 'Boston Depot' });
  await expect(boston).toContainText('work_orders.update');
  await expect(boston).toContainText('from Boston Depot');
});
