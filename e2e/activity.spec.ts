import { expect, test } from '@playwright/test';
import { hubRegistry, hubTwin } from './hub.ts';

const [deviceId, moduleId] = ['berlin-b1-hvac-02', 'controller'];

test('fleet activity: changes from a back end and from the module app appear live with who made them, filter by source and key (kept in the URL), and open the twin at that version', async ({
  page,
}) => {
  // Another back end changes the module's desired properties; the running module app echoes
  // them in its reported properties. Neither goes through Twinscope.
  const registry = hubRegistry();
  const setpoint = async (celsius: number) => {
    const before = await hubTwin(deviceId, moduleId);
    await registry.updateModuleTwin(
      deviceId,
      moduleId,
      { properties: { desired: { setpoint: { celsius } } } },
      before.etag,
    );
    await expect
      .poll(async () => (await hubTwin(deviceId, moduleId)).properties.reported['setpoint'])
      .toEqual({ celsius });
    return (await hubTwin(deviceId, moduleId)).version;
  };
  // A first change, so the history holds this twin (its first snapshot) before the one shown.
  const warmed = await setpoint(20);
  await expect
    .poll(async () => {
      const at = await page.request.get(
        `/api/devices/${deviceId}/modules/${moduleId}/versions/${warmed}`,
      );
      return at.status();
    })
    .toBe(200);

  await page.goto('/activity');
  const activity = page.getByTestId('fleet-activity');
  await expect(activity.getByRole('button', { name: 'Pause live' })).toBeVisible();
  const echoed = await setpoint(19.5);

  const rows = activity.getByTestId('activity-row');
  const fromBackend = rows.filter({ hasText: 'desired.setpoint.celsius: 19.5' });
  const fromModule = rows.filter({ hasText: `v${echoed}` }).filter({ hasText: 'reported' });
  // Live: no reload.
  await expect(fromBackend.first()).toContainText('another back end');
  await expect(fromModule.filter({ hasText: 'the module' }).first()).toContainText(
    `${deviceId}/${moduleId}`,
  );

  // Filters: who made it, and a key; both are kept in the URL (a deep link).
  await activity.getByLabel('Filter by who made it').selectOption('module');
  await expect(page).toHaveURL(/source=module/);
  await expect(rows.first()).toContainText('the module');
  await expect(rows.filter({ hasText: 'another back end' })).toHaveCount(0);
  await activity.getByLabel('Filter by key').fill('setpoint.celsius');
  await activity.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(page).toHaveURL(/key=setpoint\.celsius/);
  await expect(rows.first()).toContainText('reported.setpoint.celsius: 19.5');
  await page.reload();
  await expect(activity.getByLabel('Filter by key')).toHaveValue('setpoint.celsius');
  await expect(rows.first()).toContainText(`v${echoed}`);

  // The version opens the module's page there, compared with the version before.
  await rows
    .first()
    .getByRole('link', { name: `v${echoed}` })
    .click();
  await expect(page).toHaveURL(
    new RegExp(`/devices/${deviceId}/modules/${moduleId}\\?version=${echoed}$`),
  );
  const versions = page.getByTestId('versions');
  await expect(versions.locator('.history-entry.focused')).toContainText(`v${echoed}`);
  await expect(versions.getByLabel('Version B')).toHaveValue(String(echoed));
  await expect(versions.getByTestId('version-diff').locator('.monaco-diff-editor')).toBeVisible();
  await expect(versions.getByTestId('version-diff')).toContainText('19.5');
});
