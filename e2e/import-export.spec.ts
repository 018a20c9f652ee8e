import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { registryFor } from '@twinscope/hub-connection';
import { readConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { hubRegistry, hubTwin } from './hub.ts';
import { startEmptyStack } from './second-stack.ts';

test('import / export: an Admin exports a site, downloads it, the site is emptied, and importing the file after its preview brings every device and module back with its twin', async ({
  page,
}) => {
  const site = `e2e-export-${Date.now()}`;
  const registry = hubRegistry();
  const ids = [`${site}-gw`, `${site}-meter`, `${site}-pump`];
  for (const deviceId of ids) {
    await registry.create({ deviceId, status: 'enabled' });
    const twin = await registry.getTwin(deviceId);
    await registry.updateTwin(
      deviceId,
      {
        tags: { site, kind: deviceId.split('-').at(-1) },
        properties: { desired: { interval: 15 } },
      },
      twin.responseBody.etag,
    );
  }
  await registry.addModule({ deviceId: ids[0]!, moduleId: 'collector' });
  try {
    await page.goto('/');
    await page.getByRole('banner').getByRole('link', { name: 'Import / export' }).click();
    await expect(page.getByRole('heading', { name: 'Import / export' })).toBeVisible();

    // Export the site (no keys) and download the file the hub's job wrote.
    await page.getByLabel('Only devices where').fill(`tags.site = '${site}'`);
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await expect(page.getByTestId('job-status')).toHaveText('completed', { timeout: 20_000 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^devices-.+\.jsonl$/);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(
      lines
        .filter((l) => !l.moduleId)
        .map((l) => l.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(lines.find((l) => l.moduleId === 'collector')?.id).toBe(ids[0]);

    // The site is emptied; the file brings it back.
    for (const deviceId of ids) await registry.delete(deviceId);
    await page.goto('/fleet/jobs');
    await page.getByLabel('Import file (JSON lines)').setInputFiles(file);
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.getByTestId('import-counts')).toContainText(
      'Will create 4, update 0, delete 0, refused 0',
    );
    await expect(
      page.getByRole('table', { name: 'Import preview' }).getByTestId('preview-row'),
    ).toHaveCount(4);
    await page.getByRole('button', { name: 'Run import' }).click();
    await page
      .getByTestId('confirm-import')
      .getByRole('button', { name: 'Start the import' })
      .click();
    await expect(page.getByTestId('job-status')).toHaveText('completed', { timeout: 20_000 });
    const outcome = page.getByRole('table', { name: 'Import outcome' });
    await expect(outcome.getByTestId('outcome-row')).toHaveCount(4);
    await expect(outcome.locator('[data-testid=outcome-row][data-outcome=succeeded]')).toHaveCount(
      4,
    );

    for (const deviceId of ids) {
      const twin = await hubTwin(deviceId);
      expect(twin.tags).toMatchObject({ site });
      expect(twin.properties.desired['interval']).toBe(15);
    }
    await registry.getModule(ids[0]!, 'collector');

    // Both jobs are listed, and in the audit trail.
    // (The e2e hub is fresh: these are the only jobs.)
    const recent = page.getByTestId('recent-jobs').getByTestId('fleet-job-row');
    await expect(recent).toHaveCount(2);
    await expect(recent.filter({ hasText: 'import' })).toHaveCount(1);
    await page.goto('/audit?kind=fleet');
    await expect(page.getByTestId('audit-row')).toHaveCount(2);
  } finally {
    for (const deviceId of ids) await registry.delete(deviceId).catch(() => undefined);
  }
});

test('import / export: the whole fleet exported from one hub and imported through another console into an empty hub reproduces every device and module with its tags and desired properties', async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);
  await page.goto('/fleet/jobs');
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByTestId('job-status')).toHaveText('completed', { timeout: 30_000 });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download' }).click(),
  ]);
  const file = await download.path();
  const exported = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; moduleId?: string });
  const devices = exported.filter((l) => !l.moduleId).map((l) => l.id);
  expect(devices.length).toBeGreaterThanOrEqual(14);

  const empty = await startEmptyStack('e2e-empty-hub');
  try {
    const other = await browser.newPage();
    await other.goto(`${empty.url}/fleet/jobs`);
    await other.getByLabel('Import file (JSON lines)').setInputFiles(file);
    await other.getByRole('button', { name: 'Preview' }).click();
    // Into an empty hub every line is a create.
    await expect(other.getByTestId('import-counts')).toContainText(
      `Will create ${exported.length}, update 0, delete 0, refused 0`,
    );
    await other.getByRole('button', { name: 'Run import' }).click();
    await other
      .getByTestId('confirm-import')
      .getByRole('button', { name: 'Start the import' })
      .click();
    await expect(other.getByTestId('job-status')).toHaveText('completed', { timeout: 60_000 });
    await expect(other.getByTestId('import-failed')).toHaveAttribute('data-failed', '0');

    // The second hub holds the same devices, each with the first one's tags and desired.
    const second = readConnectionFile(join(empty.dataDir, 'connection.json'));
    const registry = registryFor(second.serviceConnectionString, {
      ca: readFileSync(second.caCertFile, 'utf8'),
    });
    const { responseBody: listed } = await registry.list();
    expect(listed.map((d) => d.deviceId).sort()).toEqual([...devices].sort());
    for (const deviceId of devices.slice(0, 5)) {
      const [from, to] = [await hubTwin(deviceId), (await registry.getTwin(deviceId)).responseBody];
      expect(to.tags).toEqual(from.tags);
      const { $metadata: _m, $version: _v, ...desired } = from.properties.desired;
      expect(to.properties.desired).toMatchObject(desired);
    }
    await other.close();
  } finally {
    await empty.stop();
  }
});
