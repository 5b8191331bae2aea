import { test, expect, hydrated, signIn } from './helpers';

test.describe.configure({ mode: 'serial' });

const REASON = 'Ticket 4711: Tina cannot complete her work order';

test('the support ticket that started it all', async ({ page }) => {
  await signIn(page, 'admin@fleetgate.test');
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/users/);
  await hydrated(page);

  // Support staff can never be viewed as: disabled, with the reason as its description.
  const supportViewAs = page.getByRole('row', { name: /Sam Support/ }).getByRole('button', { name: 'View as' });
  await expect(supportViewAs).toBeDisabled();
  await expect(supportViewAs).toHaveAccessibleDescription('Support staff can never be viewed as.');

  await page.getByRole('row', { name: /Tina Nguyen/ }).getByRole('button', { name: 'View as' }).click();
  await page.getByLabel('Reason').fill(REASON);
  await expect(page.getByLabel('Read-only')).toBeChecked();
  await page.getByRole('button', { name: 'Start viewing' }).click();

  const banner = page.getByRole('region', { name: 'Impersonation' });
  await expect(banner).toContainText('Viewing as Tina Nguyen');
  await expect(banner).toContainText('Read-only');
  await expect(banner).toContainText(REASON);
  await expect(banner).toContainText(/\d+:\d\d left/);
  // Exactly as Tina sees it: no Admin link.
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Work orders' }).click();
  await page.getByRole('link', { name: 'Replace front brake pads' }).click();
  await hydrated(page);
  const complete = page.getByRole('button', { name: 'Complete' });
  await expect(complete).toBeDisabled();
  await expect(complete).toHaveAccessibleDescription(/work_orders\.complete/);
  await expect(banner).toBeVisible();

  // Read-only: a change Tina could make is refused with the read-only message; nothing changes.
  await page.getByRole('button', { name: 'Start work' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'read-only impersonation' })).toBeVisible();
  await page.reload();
  await expect(page.locator('.facts .status')).toHaveText('Open');

  // The Exit button is reachable by keyboard.
  const exit = page.getByRole('button', { name: 'Exit impersonation' });
  await exit.focus();
  await expect(exit).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/admin\/users/);
  await expect(page.getByRole('region', { name: 'Impersonation' })).toHaveCount(0);
  await expect(page.locator('.who-name')).toHaveText('Alice Admin');

  // The audit log shows the start with its reason, and the exit.
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Hash chain verified' })).toBeVisible();
  const startRow = page.getByRole('row', { name: /impersonation\.start/ });
  await expect(startRow).toContainText(REASON);
  await expect(startRow).toContainText('Alice Admin');
  await expect(startRow).toContainText('Tina Nguyen');
  await expect(page.getByRole('row', { name: /impersonation\.exit/ })).toHaveCount(1);
});

test("the customer's audit log shows who viewed as whom, and why", async ({ page }) => {
  await signIn(page, 'olga@acme.test');
  await page.getByRole('link', { name: 'Audit' }).click();
  const startRow = page.getByRole('row', { name: /impersonation\.start/ });
  await expect(startRow).toContainText('Alice Admin');
  await expect(startRow).toContainText(REASON);
});
