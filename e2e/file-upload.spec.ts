import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

test('file upload: the demo gateway uploads its boot report through the hub as it starts; its page lists it and downloads the same report', async ({
  page,
}) => {
  const deviceId = 'berlin-b1-gateway-01';
  await page.goto(`/devices/${deviceId}#files`);
  await expect(page.getByTestId('page-title')).toHaveText(deviceId);
  const files = page.getByTestId('device-files');
  // The simulated fleet uploads as it starts (SAS URI from the hub, the blob to Azurite, the
  // completion back to the hub); uploads are not live, so the list is read again until then.
  await expect(async () => {
    await files.getByRole('button', { name: 'Refresh' }).click();
    await expect(files.getByTestId('device-file')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  const row = files.getByTestId('device-file');
  await expect(row).toContainText('diagnostics/boot-report.json');

  const download = page.waitForEvent('download');
  await row.getByRole('link', { name: 'Download diagnostics/boot-report.json' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/boot-report\.json$/);
  const report = JSON.parse(readFileSync(await file.path(), 'utf8')) as Record<string, unknown>;
  expect(report).toMatchObject({ deviceId, reason: 'power-on' });
});
