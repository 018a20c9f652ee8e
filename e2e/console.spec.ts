import { expect, test } from '@playwright/test';
import { runModule } from '@twinscope/module-simulator';
import { hubCa, hubHost, hubPorts, hubRegistry, hubTwin } from './hub.ts';
import { editable, editorLines, openTwinPage, setEditorText } from './editor.ts';

test('browse: filter the fleet by a tag, open a device, then one of its modules', async ({
  page,
}) => {
  await page.goto('/devices');
  // The seeded dozen, the demo's IoT Edge device, the sensor that provisioned itself
  // through the demo's enrollment group (the emulator's Device Provisioning Service), and
  // two Plug and Play devices, each with the model it announced.
  await expect(page.getByTestId('device-row')).toHaveCount(16);
  const modelOf = async (deviceId: string) =>
    ((await hubRegistry().getTwin(deviceId)).responseBody as { modelId?: string }).modelId;
  expect(await modelOf('oslo-lab-controller-16')).toBe(
    'dtmi:twinscope:demo:TemperatureController;1',
  );
  expect(await modelOf('oslo-lab-thermostat-15')).toBe('dtmi:twinscope:demo:Thermostat;1');
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'live');
  await expect(
    page.getByTestId('device-row').filter({ hasText: 'berlin-b2-sensor-21' }),
  ).toHaveCount(1);
  await page.getByLabel('Filter devices').fill('site=lyon');
  await page.getByLabel('Filter devices').press('Enter');
  await expect(page.getByTestId('device-row')).toHaveCount(4);
  await expect(page).toHaveURL(/tag=site%3Dlyon/);
  await expect(page.getByTestId('device-count')).toContainText('of 4 devices');

  await page.getByTestId('device-row').filter({ hasText: 'lyon-north-gateway-07' }).click();
  await expect(page.getByTestId('page-title')).toHaveText('lyon-north-gateway-07');
  await expect(page.getByTestId('modules-table').getByRole('link')).toHaveCount(4);
  await page.getByTestId('modules-table').getByRole('link', { name: 'controller' }).click();
  await expect(page.getByTestId('page-title')).toHaveText('controller');
  await expect(page).toHaveURL(/\/devices\/lyon-north-gateway-07\/modules\/controller$/);
  await expect(page.getByTestId('reported-panel')).toContainText('firmware');

  // A deep link opens the same page in a fresh tab.
  await page.goto('/devices/lyon-north-gateway-07/modules/controller');
  await expect(page.getByTestId('page-title')).toHaveText('controller');
});

test('edit: a desired property and a tag, reviewed then saved, reach the hub as only the changed keys', async ({
  page,
}) => {
  const deviceId = 'berlin-b1-meter-03';
  const before = await hubTwin(deviceId);
  await openTwinPage(page, `/devices/${deviceId}`);
  const doc = editable(before);
  doc.tags = { ...doc.tags, floor: 4 };
  doc.properties.desired = {
    ...doc.properties.desired,
    telemetry: { enabled: true, intervalSeconds: 15 },
  };
  await setEditorText(page, JSON.stringify(doc, null, 2));

  await page.getByRole('button', { name: 'Review changes' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('change-list')).toContainText('tags.floor');
  await expect(dialog.getByTestId('change-list')).toContainText(
    'properties.desired.telemetry.intervalSeconds',
  );
  await expect(dialog.getByTestId('change-list').getByText('will add')).toHaveCount(2);
  await expect(dialog.getByTestId('patch-preview')).toHaveText(
    JSON.stringify(
      { tags: { floor: 4 }, desired: { telemetry: { intervalSeconds: 15 } } },
      null,
      2,
    ),
  );
  await expect(dialog.getByTestId('twin-diff')).toBeVisible();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved. Only the changed keys were sent.')).toBeVisible();

  const after = await hubTwin(deviceId);
  expect(after.tags).toEqual({ ...before.tags, floor: 4 });
  expect(after.properties.desired['telemetry']).toEqual({ enabled: true, intervalSeconds: 15 });
  const version = before.properties.desired['$version'] as number;
  expect(after.properties.desired['$version']).toBe(version + 1);
  // The untouched key was not re-sent: its metadata still names the old version.
  const meta = after.properties.desired['$metadata'].telemetry;
  expect(meta.enabled.$lastUpdatedVersion).toBe(
    before.properties.desired['$metadata'].telemetry.enabled.$lastUpdatedVersion,
  );
  expect(meta.intervalSeconds.$lastUpdatedVersion).toBe(version + 1);
});

test('delete: removing a key in the editor and saving with Ctrl+S removes it on the hub', async ({
  page,
}) => {
  const deviceId = 'berlin-b2-meter-05';
  const before = await hubTwin(deviceId);
  expect(before.tags['role']).toBe('meter');
  await openTwinPage(page, `/devices/${deviceId}`);
  const doc = editable(before);
  const { role: _role, ...tags } = doc.tags;
  await setEditorText(page, JSON.stringify({ ...doc, tags }, null, 2));
  await expect(page.getByText('Unsaved changes')).toBeVisible();
  await page.keyboard.press('ControlOrMeta+S');
  await expect(page.getByText('Saved. Only the changed keys were sent.')).toBeVisible();
  const after = await hubTwin(deviceId);
  expect(after.tags['role']).toBeUndefined();
  expect(after.tags['site']).toBe('berlin');
});

test('live: a change made elsewhere shows without a reload, and unsaved edits survive the banner', async ({
  page,
}) => {
  const deviceId = 'lyon-south-camera-10';
  const registry = hubRegistry();
  await openTwinPage(page, `/devices/${deviceId}`);
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'live');
  // As npm start runs it: twin change events routed to the built-in endpoint, not polling.
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-source', 'event-hubs');

  await registry.updateTwin(deviceId, { properties: { desired: { brightness: 70 } } }, '*');
  await expect(editorLines(page)).toContainText('"brightness": 70');

  const current = editable(await hubTwin(deviceId));
  await setEditorText(
    page,
    JSON.stringify({ ...current, tags: { ...current.tags, note: 'typed-by-operator' } }, null, 2),
  );
  await registry.updateTwin(deviceId, { properties: { desired: { contrast: 5 } } }, '*');
  const banner = page.getByTestId('incoming-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('properties.desired.contrast');
  await expect(editorLines(page)).toContainText('typed-by-operator');

  await banner.getByRole('button', { name: 'Re-apply my edits on the latest' }).click();
  await expect(editorLines(page)).toContainText('"contrast": 5');
  await expect(editorLines(page)).toContainText('typed-by-operator');
  await page.keyboard.press('ControlOrMeta+S');
  await expect(page.getByText('Saved. Only the changed keys were sent.')).toBeVisible();
  const after = await hubTwin(deviceId);
  expect(after.tags['note']).toBe('typed-by-operator');
  expect(after.properties.desired['contrast']).toBe(5);
});

test('conflict: a save over someone else’s change shows both, and re-applying keeps both', async ({
  page,
}) => {
  const deviceId = 'toronto-hq-hvac-12';
  const before = await hubTwin(deviceId);
  await openTwinPage(page, `/devices/${deviceId}`);
  const doc = editable(before);
  await setEditorText(
    page,
    JSON.stringify({ ...doc, tags: { ...doc.tags, mine: 'yes' } }, null, 2),
  );
  await hubRegistry().updateTwin(deviceId, { properties: { desired: { theirs: 1 } } }, before.etag);

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const conflict = page.getByTestId('conflict-view');
  await expect(conflict).toBeVisible();
  await expect(conflict.getByTestId('twin-diff')).toBeVisible();
  expect((await hubTwin(deviceId)).tags['mine']).toBeUndefined();

  await conflict.getByRole('button', { name: 'Re-apply my changes on top' }).click();
  await expect(editorLines(page)).toContainText('"theirs": 1');
  await expect(editorLines(page)).toContainText('"mine": "yes"');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Saved. Only the changed keys were sent.')).toBeVisible();
  const after = await hubTwin(deviceId);
  expect(after.tags['mine']).toBe('yes');
  expect(after.properties.desired['theirs']).toBe(1);
});

test('refused: invalid JSON and twin-rule violations are explained and nothing is sent', async ({
  page,
}) => {
  const deviceId = 'berlin-b1-hvac-02';
  const before = await hubTwin(deviceId);
  await openTwinPage(page, `/devices/${deviceId}`);
  const save = page.getByRole('button', { name: 'Save', exact: true });
  const blocker = page.getByTestId('editor-blocker');

  await setEditorText(page, '{ "tags": { "site": "berlin", }');
  await expect(blocker).toContainText('not valid JSON');
  await expect(save).toBeDisabled();

  const doc = editable(before);
  await setEditorText(
    page,
    JSON.stringify({ ...doc, tags: { ...doc.tags, 'bad.key': 1 } }, null, 2),
  );
  await expect(blocker).toContainText('tags["bad.key"]');
  await expect(save).toBeDisabled();
  await expect(page.locator('[data-testid=twin-json-editor] .squiggly-error')).not.toHaveCount(0);
  // Each finding is listed under the editor with its line; choosing one puts the cursor there.
  const problem = page.getByTestId('editor-problems').getByRole('button');
  await expect(problem).toHaveCount(1);
  const line = Number(/^Line (\d+):/.exec((await problem.textContent()) ?? '')?.[1]);
  expect(line).toBeGreaterThan(1);
  await problem.click();
  await expect(page.locator('[data-testid=twin-json-editor] textarea')).toBeFocused();

  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 11; i >= 1; i--) deep = { [`l${i}`]: deep };
  await setEditorText(
    page,
    JSON.stringify(
      { ...doc, properties: { desired: { ...doc.properties.desired, ...deep } } },
      null,
      2,
    ),
  );
  await expect(blocker).toContainText('properties.desired.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11');
  await expect(blocker).toContainText('10 levels');
  await page.keyboard.press('ControlOrMeta+S');

  await setEditorText(
    page,
    JSON.stringify({ ...doc, properties: { desired: {}, reported: { x: 1 } } }, null, 2),
  );
  await expect(blocker).toContainText('Reported properties are written by the device');

  expect((await hubTwin(deviceId)).etag).toBe(before.etag);
});

test('closed loop: a desired change made in the console is acknowledged by the running module', async ({
  page,
}) => {
  const [deviceId, moduleId] = ['lyon-south-hvac-09', 'controller'];
  const before = await hubTwin(deviceId, moduleId);
  await openTwinPage(page, `/devices/${deviceId}/modules/${moduleId}`);
  await expect(page.getByText('Connected', { exact: true })).toBeVisible();
  const doc = editable(before);
  await setEditorText(
    page,
    JSON.stringify(
      { ...doc, properties: { desired: { ...doc.properties.desired, mode: 'boost' } } },
      null,
      2,
    ),
  );
  await page.keyboard.press('ControlOrMeta+S');
  await expect(page.getByText('Saved. Only the changed keys were sent.')).toBeVisible();
  const reported = page.getByTestId('reported-panel');
  await expect(reported.locator('tr', { hasText: /^mode/ })).toContainText('"boost"');
  await expect(reported).toContainText('DateTimeLastDesiredPropertyChangeReceived');
  const after = await hubTwin(deviceId, moduleId);
  expect(after.properties.reported['mode']).toBe('boost');
});

test('modules: add one, reveal its connection string, change managedBy, delete it after confirming by name', async ({
  page,
}) => {
  const deviceId = 'berlin-b2-camera-06';
  await page.goto(`/devices/${deviceId}`);
  await page.getByRole('button', { name: 'Add module' }).click();
  const add = page.getByRole('dialog');
  await add.getByLabel('Module ID').fill('recorder');
  await add.getByLabel('Managed by').fill('ops');
  await add.getByRole('button', { name: 'Add module' }).click();
  await expect(
    page.getByTestId('modules-table').getByRole('link', { name: 'recorder' }),
  ).toBeVisible();
  await page.getByTestId('module-created').getByRole('link', { name: 'Open recorder' }).click();
  await expect(page.getByTestId('page-title')).toHaveText('recorder');
  await expect(page).toHaveURL(new RegExp(`/devices/${deviceId}/modules/recorder$`));
  const registry = hubRegistry();
  expect((await registry.getModule(deviceId, 'recorder')).responseBody.managedBy).toBe('ops');

  await page.getByRole('button', { name: 'Show connection string' }).click();
  await expect(page.getByLabel('Module connection string')).toHaveValue(
    new RegExp(
      `^HostName=${hubHost().replaceAll('.', '\\.')}:18883;DeviceId=${deviceId};ModuleId=recorder;SharedAccessKey=.+`,
    ),
  );
  await page.getByRole('button', { name: 'Hide' }).click();
  await expect(page.getByTestId('connection-string')).toHaveCount(0);

  await page.getByLabel('Managed by').fill('team-x');
  await page.getByRole('button', { name: 'Save managed by' }).click();
  await expect
    .poll(async () => (await registry.getModule(deviceId, 'recorder')).responseBody.managedBy)
    .toBe('team-x');

  await page.getByRole('button', { name: 'Delete module' }).click();
  const confirm = page.getByRole('dialog');
  const remove = confirm.getByRole('button', { name: 'Delete recorder' });
  await expect(remove).toBeDisabled();
  await confirm.getByLabel('Type the id to confirm').fill('recorder');
  await remove.click();
  await expect(page.getByTestId('module-deleted')).toBeVisible();
  await page
    .getByTestId('module-deleted')
    .getByRole('link', { name: `Back to ${deviceId}` })
    .click();
  await expect(page.getByTestId('page-title')).toHaveText(deviceId);
  await expect(
    page.getByTestId('modules-table').getByRole('link', { name: 'telemetry' }),
  ).toBeVisible();
  await expect(
    page.getByTestId('modules-table').getByRole('link', { name: 'recorder' }),
  ).toHaveCount(0);
  await expect(registry.getModule(deviceId, 'recorder')).rejects.toThrow();
});

test('module app: connect the simulator with a revealed string, see the desired echo arrive in sync, old key refused after regenerating', async ({
  page,
}) => {
  const deviceId = 'lyon-north-meter-08';
  await page.goto(`/devices/${deviceId}`);
  await page.getByRole('button', { name: 'Add module' }).click();
  await page.getByRole('dialog').getByLabel('Module ID').fill('sim');
  await page.getByRole('dialog').getByRole('button', { name: 'Add module' }).click();
  await page.getByTestId('module-created').getByRole('link', { name: 'Open sim' }).click();
  await expect(page.getByTestId('page-title')).toHaveText('sim');

  await page.getByRole('button', { name: 'Show connection string' }).click();
  const connectionString = await page.getByLabel('Module connection string').inputValue();
  const logs: string[] = [];
  // Over AMQP, as the how-to's ModuleClient; the stack's AMQP port comes from its configuration.
  const module = await runModule(connectionString, {
    ca: hubCa(),
    ports: hubPorts(),
    log: (line) => logs.push(line),
  });
  try {
    const identity = page.getByLabel('Module identity');
    await expect(identity.getByText('Connected', { exact: true })).toBeVisible();
    await expect(page.getByTestId('reported-panel')).toContainText('DateTimeLastAppLaunch');

    await setEditorText(
      page,
      JSON.stringify({ tags: {}, properties: { desired: { speed: 3 } } }, null, 2),
    );
    await page.keyboard.press('ControlOrMeta+S');
    await expect(page.getByTestId('sync-speed')).toContainText('in sync');
    await expect(
      page.getByTestId('reported-panel').locator('tr', { hasText: /^speed/ }),
    ).toContainText('3');
    expect(logs.some((line) => line.includes('desired speed = 3'))).toBe(true);

    await page.getByRole('button', { name: 'Regenerate primary key' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Regenerate' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
  } finally {
    await module.stop();
  }
  await expect(
    runModule(connectionString, { ca: hubCa(), ports: hubPorts(), log: () => undefined }),
  ).rejects.toThrow();

  await page.getByRole('button', { name: 'Delete module' }).click();
  await page.getByRole('dialog').getByLabel('Type the id to confirm').fill('sim');
  await page.getByRole('dialog').getByRole('button', { name: 'Delete sim' }).click();
  await expect(page.getByTestId('module-deleted')).toBeVisible();
  await expect(hubRegistry().getModule(deviceId, 'sim')).rejects.toThrow();
});

test('history: a twin changed 23 times shows the newest 20, and the older ones on request', async ({
  page,
}) => {
  const deviceId = 'berlin-b2-hvac-04';
  const { csrfToken } = (await (await page.request.get('/api/me')).json()) as {
    csrfToken: string;
  };
  for (let i = 1; i <= 23; i++) {
    const { etag } = await hubTwin(deviceId);
    const saved = await page.request.patch(`/api/devices/${deviceId}/twin`, {
      headers: { 'X-CSRF-Token': csrfToken },
      data: { etag, tags: { step: i } },
    });
    expect(saved.status()).toBe(200);
  }
  await page.goto(`/devices/${deviceId}`);
  const entries = page.getByTestId('history-entry');
  await expect(entries).toHaveCount(20);
  await expect(entries.first()).toContainText('"step":23');
  await page.getByRole('button', { name: 'Show older changes' }).click();
  await expect(entries).toHaveCount(23);
  await expect(entries.last()).toContainText('"step":1');
  await expect(page.getByRole('button', { name: 'Show older changes' })).toHaveCount(0);
});
