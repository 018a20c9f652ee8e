import { expect, test, type Page } from '@playwright/test';
import { hubTwin } from './hub.ts';

const [deviceId, moduleId] = ['lyon-south-hvac-09', 'controller'];
const twinPath = `/api/devices/${deviceId}/modules/${moduleId}`;

async function patchDesired(page: Page, desired: Record<string, unknown>): Promise<number> {
  const me = (await (await page.request.get('/api/me')).json()) as { csrfToken: string };
  const { twin } = (await (await page.request.get(twinPath)).json()) as { twin: { etag: string } };
  const response = await page.request.patch(`${twinPath}/twin`, {
    headers: { 'X-CSRF-Token': me.csrfToken },
    data: { etag: twin.etag, desired },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { twin: { version: number } }).twin.version;
}

test("versions: the module app's own change shows with who made it; two versions are compared; restoring one puts the twin back", async ({
  page,
}) => {
  await page.goto(`/devices/${deviceId}/modules/${moduleId}`);
  const versions = page.getByTestId('versions');
  const first = await patchDesired(page, { historyProbe: 'first' });
  // The running module app echoes the desired change in its reported properties.
  await expect(
    versions.getByTestId('version').filter({ hasText: 'by the module' }).first(),
  ).toBeVisible();
  await expect(versions.getByTestId('version').filter({ hasText: `v${first}` })).toContainText(
    'by Local operator',
  );
  await expect
    .poll(async () => (await hubTwin(deviceId, moduleId)).properties.reported['historyProbe'])
    .toBe('first');
  const echoed = (await hubTwin(deviceId, moduleId)).version as number;
  await expect(versions.getByTestId('version').first()).toContainText(`v${echoed}`);

  await patchDesired(page, { historyProbe: 'second' });
  await expect
    .poll(async () => (await hubTwin(deviceId, moduleId)).properties.reported['historyProbe'])
    .toBe('second');
  const latest = (await hubTwin(deviceId, moduleId)).version as number;
  await expect(versions.getByTestId('version').first()).toContainText(`v${latest}`);

  // Compare the version after the first echo with the newest.
  await versions.getByLabel('Version A').selectOption(String(echoed));
  await versions.getByLabel('Version B').selectOption(String(latest));
  await versions.getByRole('button', { name: 'Show differences' }).click();
  await expect(versions.getByTestId('version-diff').locator('.monaco-diff-editor')).toBeVisible();
  await expect(versions.getByTestId('version-diff')).toContainText('second');

  // Restore it: the patch is shown first, then sent with the current etag.
  await versions.getByRole('button', { name: `Restore v${echoed}…` }).click();
  const dialog = page.getByTestId('restore-dialog');
  await expect(dialog.getByTestId('restore-patch')).toContainText('"historyProbe": "first"');
  await dialog.getByRole('button', { name: `Send the patch for v${echoed}` }).click();
  await expect(dialog).toBeHidden();
  await expect
    .poll(async () => (await hubTwin(deviceId, moduleId)).properties.desired['historyProbe'])
    .toBe('first');
});
