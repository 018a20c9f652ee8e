import { expect, test } from '@playwright/test';

test('Plug and Play: the temperature controller’s page shows its model as forms; a target temperature set on a thermostat component is acknowledged by the simulated device, and a component command answers', async ({
  page,
}) => {
  await page.goto('/devices/oslo-lab-controller-16');
  const pnp = page.getByTestId('pnp-panel');
  await expect(pnp).toContainText('dtmi:twinscope:demo:TemperatureController;1 (DTDL v3)');
  // Each component of the model, with what the device reported under it.
  const thermostat1 = pnp.getByRole('region', { name: /\(thermostat1\)$/ });
  const information = pnp.getByRole('region', { name: /\(deviceInformation\)$/ });
  await expect(thermostat1).toBeVisible();
  await expect(pnp.getByRole('region', { name: /\(thermostat2\)$/ })).toBeVisible();
  await expect(information.getByTestId('pnp-reported-deviceInformation-manufacturer')).toHaveText(
    'Twinscope demo',
  );
  await expect(thermostat1).toContainText('Temperature (double, °C)');

  // Its telemetry plotted: each thermostat's temperature a line of its own, by the component
  // the hub routed it with (dt-subject), named and in °C as the component's model says.
  const viewer = page.getByTestId('telemetry-viewer');
  await viewer.getByRole('button', { name: 'Read earlier messages from this time' }).click();
  for (const component of ['thermostat1', 'thermostat2'])
    await expect(
      viewer.getByRole('checkbox', { name: `Temperature (${component}/temperature)` }),
    ).toBeChecked({ timeout: 20_000 });
  await expect(viewer.getByRole('checkbox', { name: /^temperature$/ })).toHaveCount(0);

  // A writable property: the desired patch under the component, marked as one; the device's
  // acknowledgement (ac 200 at the asking version) turns it from pending to applied.
  const target = 18 + Math.round(Math.random() * 80) / 10;
  await thermostat1.getByLabel('Target temperature (°C)').fill(String(target));
  await thermostat1.getByRole('button', { name: 'Set' }).click();
  await expect(thermostat1.getByTestId('pnp-state-thermostat1-targetTemperature')).toContainText(
    `Applied: ${target} °C`,
    { timeout: 15_000 },
  );
  // A value the thermostat refuses comes back as its refusal, with why.
  await thermostat1.getByLabel('Target temperature (°C)').fill('500');
  await thermostat1.getByRole('button', { name: 'Set' }).click();
  await expect(thermostat1.getByTestId('pnp-state-thermostat1-targetTemperature')).toContainText(
    /Refused \(4\d\d\)/,
    { timeout: 15_000 },
  );

  // A component command: thermostat1*getMaxMinReport, answered by the device.
  await thermostat1.getByRole('button', { name: 'Run' }).click();
  const response = thermostat1.getByTestId('pnp-response-thermostat1-getMaxMinReport');
  await expect(response).toContainText('status 200', { timeout: 15_000 });
  await expect(response).toContainText('maxTemp');
});
