import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { hubRegistry, hubTwin } from './hub.ts';

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
