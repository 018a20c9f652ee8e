import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E_DATA_DIR } from '../playwright.config.ts';
import { setEditorText } from './editor.ts';
import { hubTwin } from './hub.ts';

test('provisioning: an Admin creates an enrollment group with an initial twin, a simulated device provisions itself through it, and its page shows the twin and the group', async ({
  page,
}) => {
  const groupId = `e2e-kiosks-${Date.now()}`;
  const deviceId = `${groupId}-01`;
  await page.goto('/');
  await page.getByRole('banner').getByRole('link', { name: 'Provisioning' }).click();
  await expect(page.getByRole('heading', { name: 'Provisioning', exact: true })).toBeVisible();
  // The demo's group, which npm start's provisioned sensor came through.
  await expect(
    page
      .getByRole('table', { name: 'Enrollment groups' })
      .getByRole('link', { name: 'demo-sensors' }),
  ).toBeVisible();

  await page.getByRole('button', { name: 'New enrollment group' }).click();
  await page.getByLabel('Group ID').fill(groupId);
  // The initial twin is checked against IoT Hub's twin rules as it is typed.
  await setEditorText(
    page,
    JSON.stringify({ tags: { 'bad key$': 1 }, properties: { desired: {} } }),
    'initial-twin-editor',
  );
  await expect(page.getByTestId('initial-twin-problems')).toContainText('bad key$');
  await expect(page.getByRole('button', { name: 'Save' })).toBeDisabled();
  await setEditorText(
    page,
    JSON.stringify({
      tags: { site: 'e2e-mall', role: 'kiosk' },
      properties: { desired: { screen: { brightness: 70 } } },
    }),
    'initial-twin-editor',
  );
  await expect(page.getByTestId('initial-twin-problems')).toHaveCount(0);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `Enrollment group ${groupId}` })).toBeVisible();
  await expect(page.getByTestId('enrollment-status')).toHaveText('Enabled');

  // A device of the group provisions itself (Microsoft's provisioning SDK over MQTT, its key
  // derived from the group's), then runs as a device.
  const device = spawn(
    process.execPath,
    [
      'packages/module-simulator/bin/module-simulator.mjs',
      '--provision',
      deviceId,
      '--enrollment-group',
      groupId,
      '--connection-file',
      join(E2E_DATA_DIR, 'connection.json'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  device.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  device.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await expect
      .poll(() => output, { timeout: 30_000 })
      .toContain(`${deviceId} provisioned itself`);

    // The group's registrations list it, linking to its page.
    await page.reload();
    const registrations = page.getByRole('table', { name: 'Registrations' });
    await expect(registrations).toContainText('assigned');
    await registrations.getByRole('link', { name: deviceId }).first().click();

    // Its page: the twin the group gave it, and which enrollment it came through.
    const provisioning = page.getByTestId('device-provisioning');
    await expect(provisioning).toContainText(groupId);
    await expect(provisioning.getByRole('link', { name: groupId })).toHaveAttribute(
      'href',
      `/provisioning/groups/${groupId}`,
    );
    const twin = await hubTwin(deviceId);
    expect(twin.tags).toMatchObject({ site: 'e2e-mall', role: 'kiosk' });
    expect(twin.properties.desired['screen']).toEqual({ brightness: 70 });
    await expect(page.getByTestId('twin-json-editor')).toContainText('e2e-mall');
  } finally {
    device.kill('SIGTERM');
  }

  // Disabled, then deleted after typing its id; both in the audit trail.
  await page.goto(`/provisioning/groups/${groupId}`);
  await page.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByTestId('enrollment-status')).toHaveText('Disabled');
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByTestId('delete-enrollment');
  await confirm.getByRole('textbox', { name: 'Type the id to confirm' }).fill(groupId);
  await confirm.getByRole('button', { name: `Delete ${groupId}` }).click();
  await expect(page).toHaveURL(/\/provisioning$/);
  // The page is back for everyone, assistive technology included (role queries skip what
  // is aria-hidden, as a dialog left behind would leave it).
  await expect(page.getByRole('heading', { name: 'Provisioning', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: groupId })).toHaveCount(0);
  await page.goto('/audit?kind=provisioning');
  await expect(page.getByTestId('audit-row').filter({ hasText: groupId })).toHaveCount(3);
});
