import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { runDevice, type RunningModule } from '@twinscope/module-simulator';
import { hubCa, hubPorts, hubRegistry } from './hub.ts';

let device: RunningModule | undefined;
test.afterAll(async () => {
  await device?.stop();
});

test('device operations: the simulator connects with the revealed string; its telemetry arrives live and exports; a method it answers and one it fails; a message it receives, with the feedback shown', async ({
  page,
}) => {
  const deviceId = 'e2e-ops-01';
  await hubRegistry().create({ deviceId });
  await page.goto(`/devices/${deviceId}`);
  await expect(page.getByTestId('page-title')).toHaveText(deviceId);

  await page.getByRole('button', { name: 'Show connection string' }).click();
  const connectionString = await page.getByLabel('Device connection string').inputValue();
  device = await runDevice(connectionString, {
    ca: hubCa(),
    transport: 'amqp',
    ports: hubPorts(),
    telemetryIntervalSeconds: 0.5,
    log: () => undefined,
  });
  // The hub's connection state event reaches the open page: no reload.
  await expect(page.getByLabel('Device identity', { exact: true })).toContainText('Connected');

  const telemetry = page.getByTestId('telemetry-viewer');
  await expect(telemetry.getByTestId('telemetry-message').first()).toContainText('temperature');
  const download = page.waitForEvent('download');
  await telemetry.getByRole('button', { name: 'Export JSON lines' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(new RegExp(`^telemetry-${deviceId}-.+\\.jsonl$`));
  const lines = readFileSync(await file.path(), 'utf8')
    .trim()
    .split('\n');
  expect(lines.length).toBeGreaterThan(0);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    type: 'telemetry',
    deviceId,
    body: { kind: 'json', value: { temperature: expect.any(Number) } },
  });

  const methods = page.getByTestId('method-panel');
  await methods.getByLabel('Method name').fill('ping');
  await methods.getByRole('button', { name: 'Invoke' }).click();
  await expect(methods.getByTestId('method-status')).toHaveText('200');
  await expect(methods.getByTestId('method-response')).toContainText('"pong": true');
  await methods.getByLabel('Method name').fill('fail');
  await methods.getByRole('button', { name: 'Invoke' }).click();
  await expect(methods.getByTestId('method-status')).toHaveText('500');
  await expect(methods.getByTestId('invocation')).toHaveCount(2);

  const messages = page.getByTestId('message-panel');
  await messages.getByLabel('Message body').fill('{"open": "valve-3"}');
  await messages.getByRole('radio', { name: /JSON/ }).check();
  await messages.getByLabel('Property 1 name').fill('priority');
  await messages.getByLabel('Property 1 value').fill('high');
  await messages.getByRole('button', { name: 'Send message' }).click();
  await expect(messages.getByTestId('message-sent')).toBeVisible();
  await expect(messages.getByTestId('feedback')).toHaveText('Success');
  await expect(messages.getByTestId('queue-depth')).toContainText('0 waiting');
});

test("the device's timeline: everything above in one live list, filtered by kind, and the same after a reload (read back from the hub's endpoint and the audit trail); the list follows telemetry by filter", async ({
  page,
}) => {
  const deviceId = 'e2e-ops-01';
  await page.goto(`/devices/${deviceId}`);
  const timeline = page.getByTestId('device-timeline');
  const kind = (name: string) => timeline.locator(`[data-kind="${name}"]`);
  await expect(kind('lifecycle').filter({ hasText: 'Device created' })).toHaveCount(1);
  await expect(kind('identity').filter({ hasText: 'Revealed the connection string' })).toHaveCount(
    1,
  );
  await expect(kind('connection').filter({ hasText: 'Connected' }).first()).toBeVisible();
  await expect(kind('method')).toHaveCount(2);
  await expect(kind('method').first()).toContainText('Invoked fail: status 500');
  await expect(kind('method').last()).toContainText('Invoked ping: status 200');
  await expect(kind('message').filter({ hasText: 'Feedback on message' })).toContainText('Success');
  await expect(kind('message').filter({ hasText: 'Sent message' })).toContainText(
    'by Local operator',
  );
  // The simulator keeps sending: new telemetry arrives live on top.
  const before = await kind('telemetry').count();
  await expect.poll(() => kind('telemetry').count(), { timeout: 10_000 }).toBeGreaterThan(before);
  await expect(kind('twin').filter({ hasText: 'by the device' }).first()).toBeVisible();

  // A live method call shows up without a reload, with who made it.
  const methods = page.getByTestId('method-panel');
  await methods.getByLabel('Method name').fill('ping');
  await methods.getByRole('button', { name: 'Invoke' }).click();
  await expect(kind('method')).toHaveCount(3);
  await expect(kind('method').first()).toContainText('by Local operator');

  // Only some kinds.
  await timeline.getByRole('checkbox', { name: /^Telemetry/ }).uncheck();
  await timeline.getByRole('checkbox', { name: /^Twin changes/ }).uncheck();
  await expect(kind('telemetry')).toHaveCount(0);
  await expect(kind('method')).toHaveCount(3);
  await timeline.getByLabel('Filter the timeline').fill('fail');
  await expect(timeline.getByTestId('timeline-entry')).toHaveCount(1);

  // The telemetry viewer reads back what the endpoint holds from a chosen time (paused and
  // cleared, so only what was read back is shown).
  const viewer = page.getByTestId('telemetry-viewer');
  await viewer.getByRole('button', { name: 'Pause' }).click();
  await viewer.getByRole('button', { name: 'Clear' }).click();
  await expect(viewer.getByTestId('telemetry-message')).toHaveCount(0);
  await viewer.getByRole('button', { name: 'Read earlier messages from this time' }).click();
  await expect(viewer.getByTestId('telemetry-read-back')).toContainText(
    /^[1-9]\d* read back since/,
  );
  await expect(viewer.getByTestId('telemetry-message').first()).toContainText('temperature');

  // The list page follows the telemetry of every device its filter matches.
  await page.goto(`/devices?prefix=${deviceId}`);
  await page.getByRole('button', { name: 'Telemetry' }).click();
  await expect(page.getByTestId('telemetry-following')).toContainText('Following 1 device');
  await expect(page.getByTestId('telemetry-message').first()).toContainText(deviceId);
});
