import { expect, test } from '@playwright/test';
import { hubHost, hubRegistry } from './hub.ts';

test('devices: create an IoT Edge device, reveal its connection string, disable it with a reason, delete it after typing its id', async ({
  page,
}) => {
  const registry = hubRegistry();
  await page.goto('/devices');
  await page.getByRole('button', { name: 'New device' }).click();
  const create = page.getByRole('dialog');
  await create.getByLabel('Device ID').fill('e2e-edge-01');
  await create.getByRole('switch').check();
  await create.getByRole('button', { name: 'Create device' }).click();
  await page.getByTestId('device-created').getByRole('link', { name: 'Open e2e-edge-01' }).click();
  await expect(page.getByTestId('page-title')).toHaveText('e2e-edge-01');
  expect((await registry.get('e2e-edge-01')).responseBody.capabilities?.iotEdge).toBe(true);

  await page.getByRole('button', { name: 'Show connection string' }).click();
  const key = (await registry.get('e2e-edge-01')).responseBody.authentication?.symmetricKey
    ?.primaryKey;
  await expect(page.getByLabel('Device connection string')).toHaveValue(
    `HostName=${hubHost()}:18883;DeviceId=e2e-edge-01;SharedAccessKey=${key}`,
  );
  await page.getByRole('button', { name: 'Hide' }).click();

  await page.getByRole('button', { name: 'Disable device' }).click();
  const disable = page.getByRole('dialog');
  await disable.getByLabel('Reason').fill('waiting for a new enclosure');
  await disable.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByRole('button', { name: 'Enable device' })).toBeVisible();
  expect((await registry.get('e2e-edge-01')).responseBody).toMatchObject({
    status: 'disabled',
    statusReason: 'waiting for a new enclosure',
  });

  await page.getByRole('button', { name: 'Delete device' }).click();
  const confirm = page.getByRole('dialog');
  const remove = confirm.getByRole('button', { name: 'Delete e2e-edge-01' });
  await expect(remove).toBeDisabled();
  await confirm.getByLabel('Type the id to confirm').fill('e2e-edge-01');
  await remove.click();
  await expect(page.getByTestId('device-deleted')).toBeVisible();
  await expect(registry.get('e2e-edge-01')).rejects.toThrow();
});

test('bulk: select two devices in the list and disable them; each is reported and shown disabled', async ({
  page,
}) => {
  const registry = hubRegistry();
  await registry.addDevices([{ deviceId: 'e2e-bulk-a' }, { deviceId: 'e2e-bulk-b' }] as never);
  await page.goto('/devices?prefix=e2e-bulk-');
  await expect(page.getByTestId('device-row')).toHaveCount(2);
  await page.getByLabel('Select e2e-bulk-a').check();
  await page.getByLabel('Select e2e-bulk-b').check();
  await expect(page.getByTestId('selected-count')).toHaveText('2 selected');
  await page.getByRole('button', { name: 'Disable…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Reason').fill('decommissioned');
  await dialog.getByRole('button', { name: 'Disable 2' }).click();
  await expect(page.getByTestId('bulk-outcome')).toContainText('2 of 2 disabled');
  await expect(page.getByTestId('device-row').filter({ hasText: 'disabled' })).toHaveCount(2);
  for (const deviceId of ['e2e-bulk-a', 'e2e-bulk-b'])
    expect((await registry.get(deviceId)).responseBody).toMatchObject({
      status: 'disabled',
      statusReason: 'decommissioned',
    });
});
