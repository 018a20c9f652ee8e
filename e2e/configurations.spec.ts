import { expect, test } from '@playwright/test';
import { hubTwin } from './hub.ts';

test("configurations: a module configuration is created with a preview of its targets, applies to the site's controllers, its custom metric climbs as the module apps report, and it is deleted after confirmation", async ({
  page,
}) => {
  const id = `toronto-probe-${Date.now()}`;
  await page.goto('/configurations');
  const list = page.getByTestId('configurations');
  await list.getByRole('button', { name: 'New configuration' }).click();

  const form = page.getByTestId('configuration-form');
  await form.getByLabel('ID').fill(id);
  await form.getByLabel('Configures').selectOption('module');
  await form.getByLabel('Priority').fill('30');
  await form
    .getByLabel('Target condition')
    .fill("FROM devices.modules WHERE moduleId = 'controller' AND STARTSWITH(deviceId, 'toronto')");
  await form.getByRole('button', { name: 'Preview targets' }).click();
  await expect(form.getByTestId('configuration-preview')).toContainText('2 modules match now');
  await expect(form.getByTestId('configuration-preview')).toContainText(
    'toronto-hq-hvac-12/controller',
  );

  // Content that breaks the twin rules is refused, with the reason.
  await form.getByLabel('Content').fill('{"properties.desired": {"bad key$": 1}}');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByTestId('configuration-error')).toContainText('twin rules');

  await form.getByLabel('Content').fill('{"properties.desired.configProbe": "on"}');
  await form
    .getByLabel('Custom metrics')
    .fill(
      "acknowledged: SELECT deviceId, moduleId FROM devices.modules WHERE moduleId = 'controller' AND properties.reported.configProbe = 'on'",
    );
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();

  const row = list.getByTestId('configuration-row').filter({ hasText: id });
  await expect(row.getByTestId('targeted')).toHaveText('2');
  // The module apps acknowledge the desired change in their reported properties.
  await expect
    .poll(
      async () =>
        (await hubTwin('toronto-hq-hvac-12', 'controller')).properties.reported['configProbe'],
    )
    .toBe('on');
  await expect
    .poll(async () => {
      await list.getByRole('button', { name: 'Refresh' }).click();
      return row.getByTestId('metric').textContent();
    })
    .toBe('acknowledged: 2');
  await expect(row.getByTestId('applied')).toHaveText('2');

  await row.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByTestId('delete-configuration');
  await confirm.getByRole('textbox').fill(id);
  await confirm.getByRole('button', { name: `Delete ${id}` }).click();
  await expect(row).toHaveCount(0);

  // Both writes are in the fleet's audit trail, naming the configuration.
  await page.goto('/audit?kind=configuration');
  const audit = page.getByTestId('audit-row').filter({ hasText: `configuration ${id}` });
  await expect(audit.filter({ hasText: 'deleted the configuration' })).toHaveCount(1);
  await expect(audit.filter({ hasText: 'created the configuration' })).toHaveCount(1);
});
