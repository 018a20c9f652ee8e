import { expect, test, type Page } from '@playwright/test';
import { setEditorText } from './editor.ts';
import { hubTwin } from './hub.ts';

/** Opens the change preview from the device list under a filter and previews a change. */
async function preview(page: Page, list: string, change: string, moduleId = '') {
  await page.goto(list);
  await page.getByRole('button', { name: 'Preview a change…' }).click();
  const form = page.getByTestId('change-preview');
  await form.getByLabel('Module').fill(moduleId);
  await setEditorText(page, change, 'change-editor');
  await form.getByRole('button', { name: 'Dry run' }).click();
  return page.getByTestId('rollout-form');
}

test("rollouts: a desired change rolls to one site's controllers in two waves; the module apps acknowledge it and the rollout completes, live", async ({
  page,
}) => {
  const probe = `r${Date.now()}`;
  const rollout = await preview(
    page,
    '/devices?tag=site%3Dberlin',
    `{"desired": {"rolloutProbe": "${probe}"}}`,
    'controller',
  );
  await expect(page.getByTestId('dry-run-result')).toContainText(
    '3 "controller" modules match; 3 would change and 0 already hold it.',
  );
  await rollout.getByLabel('Name').fill(`Berlin controllers ${probe}`);
  // A canary of one, then a wave twice its size: all three in two waves.
  await expect(rollout.getByTestId('wave-plan')).toContainText('1, 2 (2 waves)');
  await rollout.getByRole('button', { name: 'Start rollout' }).click();

  await expect(page).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/);
  const view = page.getByTestId('rollout');
  await expect(view.getByTestId('rollout-status')).toHaveText('Completed', { timeout: 45_000 });
  await expect(view.getByTestId('rollout-message')).toContainText('Completed: 3 twins changed');
  await expect(view.getByTestId('rollout-progress')).toContainText('3 of 3 twins done');
  const waves = view.getByTestId('wave-row');
  await expect(waves).toHaveCount(2);
  await expect(waves.nth(0).locator('[data-state="succeeded"]')).toHaveText('1');
  await expect(waves.nth(1).locator('[data-state="succeeded"]')).toHaveText('2');
  // The module apps acknowledged it: their reported properties mirror the change.
  for (const deviceId of ['berlin-b1-gateway-01', 'berlin-b1-hvac-02', 'berlin-b2-hvac-04'])
    expect((await hubTwin(deviceId, 'controller')).properties.reported['rolloutProbe']).toBe(probe);
  await expect(view.getByRole('button', { name: 'Roll back' })).toBeEnabled();

  await page.getByRole('link', { name: 'Rollouts', exact: true }).first().click();
  await expect(
    page.getByTestId('rollout-row').filter({ hasText: `Berlin controllers ${probe}` }),
  ).toContainText('Completed');
});

test('rollouts: a success condition that cannot be met stops the rollout at the canary by itself, and its rollback restores the twins', async ({
  page,
}) => {
  const ids = ['toronto-hq-gateway-11', 'toronto-hq-hvac-12'];
  const before = Object.fromEntries(
    await Promise.all(ids.map(async (id) => [id, await hubTwin(id)])),
  );
  const rollout = await preview(
    page,
    '/devices?tag=site%3Dtoronto',
    '{"tags": {"ring": "canary-probe"}, "desired": {"telemetry": {"intervalSeconds": 7}}}',
  );
  await expect(page.getByTestId('dry-run-result')).toContainText('2 devices match');
  await rollout.getByLabel('A twin succeeds when').selectOption('query');
  await rollout.getByLabel('Condition').fill("properties.reported.neverReported = 'yes'");
  await rollout.getByLabel('Time limit (s)').fill('2');
  await rollout.getByRole('button', { name: 'Start rollout' }).click();

  const view = page.getByTestId('rollout');
  await expect(view.getByTestId('rollout-status')).toHaveText('Stopped', { timeout: 30_000 });
  await expect(view.getByTestId('rollout-message')).toContainText(
    'The canary failed on 1 of 1 twins (100 %), above the 0 % threshold',
  );
  const targets = view.getByTestId('rollout-targets');
  await targets.getByLabel('Targets in state').selectOption('failed');
  await expect(targets.getByTestId('target-row')).toHaveCount(1);
  await expect(targets.getByTestId('target-row')).toContainText('did not meet');
  const canary = (await targets.getByTestId('target-row').getByRole('link').textContent())!;
  const other = ids.find((id) => id !== canary)!;
  expect((await hubTwin(canary)).tags['ring']).toBe('canary-probe');

  await view.getByRole('button', { name: 'Roll back' }).click();
  await page.getByTestId('confirm-rollout').getByRole('button', { name: 'Roll back' }).click();
  await expect(view.getByTestId('rollout-status')).toHaveText('Rolled back', { timeout: 30_000 });
  await expect(view.getByTestId('rollout-message')).toContainText(
    '1 twins have their old values again',
  );
  const restored = await hubTwin(canary);
  expect(restored.tags).toEqual(before[canary].tags);
  expect(restored.properties.desired['telemetry']).toEqual(
    before[canary].properties.desired['telemetry'],
  );
  // The device past the canary was never written.
  expect((await hubTwin(other)).version).toBe(before[other].version);
  // Every step is in the audit trail.
  await page.goto('/audit');
  await expect(page.getByTestId('audit-table').first()).toContainText("undid a rollout's change");
});
