import { Page } from '@playwright/test';
import { test, expect, hydrated, signIn } from './helpers';

// Support access the customer controls: Olga asks for grants, support cannot view as Tina
// without one, Tina opens one for an hour, support views as her and exits, Tina is told who
// looked and why, and revokes. The demo data is shared with the other specs: the consent is
// put back to "Allowed" and Tina's grants are revoked at the end, whatever happened.

// A reason of each test's own: what an earlier run left (a viewing, an approved request) must
// never pass for what this one did.
let runs = 0;
function uniqueReason() {
  runs += 1;
  return `Ticket SUP-900: Tina cannot see her work order (${Date.now()}-${runs})`;
}

async function setConsent(page: Page, label: string) {
  await page.goto('/settings');
  await hydrated(page);
  await page.getByLabel(label).check();
  await page.getByRole('button', { name: 'Save' }).click();
  // The reload must not cancel the save on its way: wait until the page says it landed.
  await expect(page.getByRole('status').filter({ hasText: 'Support access saved.' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel(label)).toBeChecked();
}

function viewAsTina(page: Page) {
  return page.getByRole('row', { name: /Tina Nguyen/ }).getByRole('button', { name: 'View as' });
}

// A safety net when a test failed half-way: the other specs expect Acme's consent "Allowed"
// and no live grant.
test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  await signIn(page, 'olga@acme.test');
  await expect(page.locator('.who-name')).toHaveText('Olga Petrova');
  await setConsent(page, 'Allowed');
  await page.close();
  const tina = await browser.newPage();
  await signIn(tina, 'tina@acme.test');
  await expect(tina.locator('.who-name')).toHaveText('Tina Nguyen');
  await tina.goto('/account');
  await hydrated(tina);
  const grants = tina.getByRole('list', { name: 'Live grants' });
  while ((await grants.count()) > 0) {
    const left = await grants.getByRole('button', { name: 'Revoke' }).count();
    await grants.getByRole('button', { name: 'Revoke' }).first().click();
    await expect(grants.getByRole('button', { name: 'Revoke' })).toHaveCount(left - 1);
  }
  await tina.close();
});

test('only with a grant: Tina opens support access, is told who looked, and revokes it', async ({
  page,
  newSession,
}) => {
  const REASON = uniqueReason();
  // Olga: only with a grant.
  const olga = await newSession();
  await signIn(olga, 'olga@acme.test');
  await expect(olga.locator('.who-name')).toHaveText('Olga Petrova');
  await setConsent(olga, 'Only with a grant');

  // The admin: View as Tina is greyed, saying why.
  await signIn(page, 'admin@fleetgate.test');
  await expect(page).toHaveURL(/\/admin\/users/);
  await hydrated(page);
  await expect(viewAsTina(page)).toBeDisabled();
  await expect(viewAsTina(page)).toHaveAccessibleDescription(/No support access grant/);

  // Tina grants support access for an hour.
  const tina = await newSession();
  await signIn(tina, 'tina@acme.test');
  await expect(tina.locator('.who-name')).toHaveText('Tina Nguyen');
  await tina.goto('/account');
  await hydrated(tina);
  await tina.getByRole('button', { name: 'Grant support access' }).click();
  await tina.getByLabel('Duration').selectOption({ label: '1 hour' });
  await tina.getByRole('button', { name: 'Grant access' }).click();
  const grants = tina.getByRole('list', { name: 'Live grants' });
  await expect(grants).toContainText('Read-only until');

  // The admin now may: views as Tina and exits.
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('row', { name: /Tina Nguyen/ })).toContainText('Granted until');
  await viewAsTina(page).click();
  await page.getByLabel('Reason').fill(REASON);
  await page.getByRole('button', { name: 'Start viewing' }).click();
  const banner = page.getByRole('region', { name: 'Impersonation' });
  await expect(banner).toContainText('Viewing as Tina Nguyen');
  // The viewer never sees the notices meant for Tina.
  await expect(page.getByRole('region', { name: 'Support access notice' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Exit impersonation' }).click();
  await expect(page).toHaveURL(/\/admin\/users/);

  // Tina is told, on her next page: who and why, until she dismisses it.
  await tina.goto('/vehicles');
  await hydrated(tina);
  const notice = tina.getByRole('region', { name: 'Support access notice' });
  await expect(notice).toContainText('Alice Admin');
  await expect(notice).toContainText(REASON);
  await tina.goto('/account');
  await hydrated(tina);
  await expect(tina.getByRole('table', { name: 'Impersonations of you' })).toContainText(REASON);
  await notice.getByRole('listitem').filter({ hasText: REASON }).getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice.getByText(REASON)).toHaveCount(0);

  // Tina revokes; View as is greyed again.
  await grants.getByRole('button', { name: 'Revoke' }).click();
  await expect(tina.getByRole('list', { name: 'Live grants' })).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(viewAsTina(page)).toBeDisabled();
  await expect(viewAsTina(page)).toHaveAccessibleDescription(/No support access grant/);
  await setConsent(olga, 'Allowed');
});

test('a fleet manager protects a team; its people cannot be viewed as', async ({ page, newSession }) => {
  const olga = await newSession();
  await signIn(olga, 'olga@acme.test');
  await expect(olga.locator('.who-name')).toHaveText('Olga Petrova');
  await olga.goto('/settings');
  await hydrated(olga);
  const denver = olga.getByRole('list', { name: 'Teams' }).getByRole('listitem').filter({ hasText: 'Denver Depot' });
  await denver.getByRole('button', { name: 'Protect', exact: true }).click();
  await expect(denver.getByRole('button', { name: 'Unprotect' })).toBeVisible();

  await signIn(page, 'admin@fleetgate.test');
  await expect(page).toHaveURL(/\/admin\/users/);
  await hydrated(page);
  const viewAsDan = page.getByRole('row', { name: /Dan / }).getByRole('button', { name: 'View as' });
  await expect(viewAsDan).toBeDisabled();
  await expect(viewAsDan).toHaveAccessibleDescription('Protected by Acme Logistics.');

  await denver.getByRole('button', { name: 'Unprotect' }).click();
  await expect(denver.getByRole('button', { name: 'Protect', exact: true })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(viewAsDan).toBeEnabled();
});

test('support asks for access; Tina approves it on her account page', async ({ page, newSession }) => {
  const REASON = uniqueReason();
  const olga = await newSession();
  await signIn(olga, 'olga@acme.test');
  await expect(olga.locator('.who-name')).toHaveText('Olga Petrova');
  await setConsent(olga, 'Only with a grant');
  try {
    await signIn(page, 'admin@fleetgate.test');
    await expect(page).toHaveURL(/\/admin\/users/);
    await hydrated(page);
    await expect(viewAsTina(page)).toBeDisabled();
    await page.getByRole('row', { name: /Tina Nguyen/ }).getByRole('button', { name: 'Ask for access' }).click();
    await page.getByLabel('Reason').fill(REASON);
    await page.getByRole('button', { name: 'Send request' }).click();
    // The dialog closes once the request is stored; a reload before that would cancel it.
    await expect(page.getByRole('dialog', { name: /Ask for access/ })).toHaveCount(0);
    const request = page
      .getByRole('region', { name: 'Support access requests' })
      .getByRole('listitem')
      .filter({ hasText: REASON });
    await page.reload();
    await expect(request).toContainText('Waiting for an answer');

    const tina = await newSession();
    await signIn(tina, 'tina@acme.test');
    await expect(tina.locator('.who-name')).toHaveText('Tina Nguyen');
    await tina.goto('/account');
    await hydrated(tina);
    const asked = tina
      .getByRole('region', { name: 'Support access requests' })
      .getByRole('listitem')
      .filter({ hasText: REASON });
    await asked.getByRole('button', { name: 'Approve' }).click();
    await expect(asked).toContainText('Approved by Tina Nguyen');

    await page.reload();
    await hydrated(page);
    await expect(request).toContainText('Approved by Tina Nguyen');
    await expect(viewAsTina(page)).toBeEnabled();
    // Revoked again, so the other tests find no grant.
    await tina.reload();
    await hydrated(tina);
    await tina.getByRole('list', { name: 'Live grants' }).getByRole('button', { name: 'Revoke' }).click();
    await expect(tina.getByRole('list', { name: 'Live grants' })).toHaveCount(0);
  } finally {
    await setConsent(olga, 'Allowed');
  }
});
