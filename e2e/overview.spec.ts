import { expect, test, type Locator } from '@playwright/test';

/** The count a bar's accessible name carries ("oslo: 2 devices", "Holds it: 3 modules"). */
async function countOf(bar: Locator): Promise<number> {
  const name = (await bar.textContent()) ?? '';
  const match = /: (\d+) (?:devices?|modules?)$/.exec(name);
  expect(match, `a count in "${name}"`).not.toBeNull();
  return Number(match![1]);
}

test('overview: the console opens on charts whose text alternatives carry their values; a new look is taken when the team changes what it shows, and each bar opens the list it counts', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/overview$/);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  // What the overview groups by is the team's choice; saving it takes a new look at once.
  await page.getByRole('button', { name: 'Customize' }).click();
  await page.getByLabel('Group the fleet by tag').fill('site');
  await page.getByLabel('Desired keys to check against reported').fill('firmware.version');
  await page.getByLabel('Desired keys to check on module twins').fill('sendIntervalSeconds');
  await page.getByRole('button', { name: 'Save for the team' }).click();
  await expect(page.getByTestId('overview-as-of')).toContainText('As of just now');
  await expect(
    page.getByRole('figure', { name: /^Desired firmware\.version against reported/ }),
  ).toBeVisible();

  // Three charts, each named with its values (what a screen reader says of it).
  const connection = page.getByRole('figure', {
    name: /^Connection: Connected: \d+ devices?, Disconnected: \d+ devices?$/,
  });
  const status = page.getByRole('figure', {
    name: /^Status: Enabled: \d+ devices?, Disabled: \d+ devices?$/,
  });
  const sites = page.getByRole('figure', { name: /^By site: .*oslo: 2 devices/ });
  await expect(connection).toBeVisible();
  await expect(status).toBeVisible();
  await expect(sites).toBeVisible();
  await expect(
    page.getByRole('figure', { name: /^Connected devices and drift, last 7 days/ }),
  ).toBeVisible();

  // Each bar is a link to the device list filtered to what it counts.
  const open = async (bar: Locator, where: RegExp) => {
    const count = await countOf(bar);
    await bar.click();
    await expect(page).toHaveURL(where);
    await expect(page.getByTestId('device-count')).toContainText(`of ${count} device`);
    await expect(page.getByTestId('device-row')).toHaveCount(count);
    await page.goBack();
    await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  };
  await open(sites.getByRole('link', { name: /^oslo\b/ }), /where=tags\.site\+%3D\+%27oslo%27/);
  await open(connection.getByRole('link', { name: /^Connected\b/ }), /where=connectionState/);
  await open(status.getByRole('link', { name: /^Enabled\b/ }), /where=status\+%3D\+%27enabled%27/);

  // A key checked on module twins opens the module list, filtered the same way.
  const moduleDrift = page.getByRole('figure', {
    name: /^Desired sendIntervalSeconds against reported \(module twins\): Holds it: \d+ modules?/,
  });
  const holds = moduleDrift.getByRole('link', { name: /^Holds it\b/ });
  const holding = await countOf(holds);
  expect(holding).toBeGreaterThan(0);
  await holds.click();
  await expect(page).toHaveURL(/source=modules&where=is_defined/);
  await expect(page.getByTestId('module-count')).toContainText(`of ${holding} module`);
  await expect(page.getByTestId('module-row')).toHaveCount(holding);
  await page.goBack();

  // The choice is the team's, so it is in the audit trail.
  await page.goto('/audit?kind=fleet');
  await expect(page.getByText('changed what the overview shows').first()).toBeVisible();
});

test('telemetry plot: the simulated thermostat’s temperature is drawn over time with what was read back, named and in °C as its model says; a drag zooms in, pause holds the lines still', async ({
  page,
}) => {
  await page.goto('/devices/oslo-lab-thermostat-15');
  await expect(page.getByTestId('page-title')).toHaveText('oslo-lab-thermostat-15');
  const viewer = page.getByTestId('telemetry-viewer');
  // What the endpoint holds from the last 15 minutes, then what arrives live.
  await viewer.getByRole('button', { name: 'Read earlier messages from this time' }).click();
  const plot = viewer.getByRole('figure', {
    name: /^Telemetry over time: Temperature last [\d.]+ °C; \d+ messages$/,
  });
  await expect(plot).toBeVisible({ timeout: 20_000 });
  const messages = async () =>
    Number(/; (\d+) messages$/.exec((await plot.getAttribute('aria-label')) ?? '')?.[1]);
  await expect.poll(messages, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  // Named and measured as the thermostat's Plug and Play model says.
  await expect(plot.getByRole('checkbox', { name: 'Temperature (temperature)' })).toBeChecked();

  // Dragging across the canvas zooms in on that stretch; "Show all" goes back.
  const canvas = plot.locator('.u-over');
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await plot.getByRole('button', { name: 'Show all' }).click();
  await expect(plot.getByRole('button', { name: 'Show all' })).toHaveCount(0);

  // Paused, nothing moves while the thermostat keeps sending (every 5 s).
  await viewer.getByRole('button', { name: 'Pause' }).click();
  const held = await messages();
  await page.waitForTimeout(6000);
  expect(await messages()).toBe(held);
  await viewer.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(messages, { timeout: 15_000 }).toBeGreaterThan(held);
});
