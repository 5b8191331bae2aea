import { test, expect, hydrated, signIn } from './helpers';

test('a bad VIN is caught in the browser, then the vehicle is added', async ({ page }) => {
  await signIn(page, 'maria@acme.test');
  await expect(page).toHaveURL(/\/vehicles$/);
  await hydrated(page);
  let posted = 0;
  page.on('request', (r) => { if (r.url().includes('/api/vehicles/create')) posted += 1; });
  await page.getByRole('button', { name: 'Add vehicle' }).click();
  await page.getByLabel('Name').fill('Van B-199');
  await page.getByLabel('VIN').fill('1FTBW2CM8LKA1019O');
  await page.getByLabel('Make').fill('Ford');
  await page.getByLabel('Model').fill('Transit');
  await page.getByLabel('Year').fill('2023');
  await page.getByLabel('Plate').fill('MA 1ZZ199');
  await page.getByRole('button', { name: 'Save vehicle' }).click();
  await expect(page.getByText('“O” is not allowed')).toBeVisible();
  expect(posted).toBe(0);

  await page.getByLabel('VIN').fill('1FTBW2CM8LKA10199');
  await page.getByRole('button', { name: 'Save vehicle' }).click();
  await expect(page.getByRole('status')).toContainText('Vehicle added');
  await expect(page.getByRole('rowheader', { name: 'Van B-199' })).toBeVisible();
  expect(posted).toBe(1);
});

test('a technician records a failed inspection', async ({ page }) => {
  await signIn(page, 'tina@acme.test');
  await page.getByRole('link', { name: 'Van B-103' }).click();
  await expect(page.getByRole('heading', { name: 'Van B-103' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Retire vehicle' })).toBeDisabled();
  await page.getByRole('button', { name: 'Inspect vehicle' }).click();
  const lights = page.getByRole('group', { name: 'Lights' });
  await lights.getByRole('checkbox').uncheck();
  await page.getByRole('button', { name: 'Submit inspection' }).click();
  await expect(lights.getByRole('alert')).toHaveText('Say what is wrong.');
  await page.getByLabel('Lights note').fill('Left indicator out');
  await page.getByRole('button', { name: 'Submit inspection' }).click();
  await expect(page.getByRole('status')).toContainText('Inspection recorded');
  await expect(page.locator('.inspections')).toContainText('Lights: Left indicator out');
});

test('the dashboard counts what the user may see', async ({ page }) => {
  await signIn(page, 'dan@acme.test');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('img', { name: /Vehicles by status: Active: \d+, In shop: \d+, Retired: 1/ })).toBeVisible();
});
