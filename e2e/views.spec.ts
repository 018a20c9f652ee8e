import { expect, test } from '@playwright/test';

test('saved views and module queries: the list switches to module twins filtered by their reported properties; the view is shared with the team under a name, opened again from the menu, and deleted', async ({
  page,
}) => {
  const name = `Eco HVAC controllers ${Date.now()}`;
  await page.goto('/devices');
  await expect(page.getByTestId('device-row').first()).toBeVisible();
  await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: 'Modules' }).click();
  await expect(page).toHaveURL(/source=modules/);
  await page
    .getByLabel('Filter devices')
    .fill("moduleId = 'controller' AND properties.reported.mode = 'eco'");
  await page.getByLabel('Filter devices').press('Enter');
  // The HVAC devices' controllers (other specs may have changed some), each with its device:
  // as many rows as the hub counts.
  const count = page.getByTestId('module-count');
  await expect(count).toContainText('FROM devices.modules');
  await expect(count).toContainText(/of \d+ modules?/);
  const matching = Number(/of (\d+) module/.exec((await count.textContent()) ?? '')![1]);
  expect(matching).toBeGreaterThan(0);
  const rows = page.getByTestId('module-row');
  await expect(rows).toHaveCount(matching);
  for (const row of await rows.all())
    await expect(row.getByRole('link', { name: 'controller' })).toBeVisible();

  await page.getByRole('button', { name: 'Save view…' }).click();
  await page.getByLabel('View name').fill(name);
  await page.getByLabel('Share with the team').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('current-view')).toContainText(`Saved view: ${name} (the team's`);

  // From the plain device list, the menu opens the saved view: its URL, its rows.
  await page.goto('/devices');
  await expect(page.getByTestId('device-row').first()).toBeVisible();
  await page.getByRole('button', { name: /^Views/ }).click();
  await page.getByRole('menuitem', { name: `${name} (modules)` }).click();
  await expect(page).toHaveURL(/source=modules&where=/);
  await expect(page.getByTestId('module-row')).toHaveCount(matching);

  // A module row opens the module's page.
  await page.getByTestId('module-row').first().getByRole('link', { name: 'controller' }).click();
  await expect(page.getByTestId('page-title')).toHaveText('controller');
  await page.goBack();

  await page.getByTestId('current-view').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('current-view')).toHaveCount(0);
  await page.goto('/audit?kind=fleet');
  await expect(page.getByText('shared a list view with the team').first()).toBeVisible();
  await expect(page.getByText('deleted a shared list view').first()).toBeVisible();
});
