import { expect, test, type Page } from '@playwright/test';
import { dockerModule } from '@twinscope/contract';
import { runEdgeRuntime, type EdgeRuntime } from '@twinscope/module-simulator';
import { setEditorText } from './editor.ts';
import { hubCa, hubPorts } from './hub.ts';

let runtime: EdgeRuntime | undefined;
test.afterAll(async () => {
  await runtime?.stop();
});

/** The manifest "Set modules" opens with (what is deployed now), its modules replaced. */
async function manifestWith(
  page: Page,
  deviceId: string,
  modules: Record<string, object>,
): Promise<string> {
  const overview = await (await page.request.get(`/api/devices/${deviceId}/edge`)).json();
  const manifest = overview.manifest;
  manifest.modulesContent.$edgeAgent['properties.desired'].modules = modules;
  return JSON.stringify(manifest, null, 2);
}

test('IoT Edge: an Edge device is created, its simulated runtime started with its connection string, modules set and seen running, one restarted and its logs read, and a broken module’s failure explained', async ({
  page,
}) => {
  const deviceId = `e2e-edge-${Date.now().toString(36)}`;
  await page.goto('/devices');
  await page.getByRole('button', { name: 'New device' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Device ID').fill(deviceId);
  await dialog.getByLabel('IoT Edge device (runs $edgeAgent and $edgeHub)').check();
  await dialog.getByRole('button', { name: 'Create device' }).click();
  await page.goto(`/devices/${deviceId}`);
  const edge = page.getByTestId('edge-panel');
  await expect(edge.getByTestId('edge-runtime-state')).toHaveText('Runtime offline');
  await expect(edge.getByTestId('edge-deployment-summary')).toContainText('never reported');

  await page.getByRole('button', { name: 'Show connection string' }).click();
  const connectionString = await page.getByLabel('Device connection string').inputValue();
  runtime = await runEdgeRuntime(connectionString, {
    ca: hubCa(),
    ports: hubPorts(),
    log: () => undefined,
  });
  await expect(edge.getByTestId('edge-runtime-state')).toHaveText('Runtime connected');

  // Set modules: a manifest that breaks the schema is held back with the reason.
  await edge.getByRole('button', { name: 'Set modules' }).click();
  const editor = edge.getByTestId('edge-set-modules');
  await expect(editor.locator('[data-testid=edge-manifest-editor] .monaco-editor')).toBeVisible();
  const base = await editor.locator('[data-testid=edge-manifest-editor] .view-lines').innerText();
  expect(base).toContain('$edgeAgent');
  const twoModules = {
    sensor: dockerModule('contoso/sensor:1.0'),
    filter: dockerModule('contoso/filter:2.0'),
  };
  const good = await manifestWith(page, deviceId, twoModules);
  const broken = JSON.parse(good);
  broken.modulesContent.$edgeAgent['properties.desired'].modules.filter.settings.createOptions = {
    HostConfig: {},
  };
  await setEditorText(page, JSON.stringify(broken, null, 2), 'edge-manifest-editor');
  await expect(editor.getByTestId('edge-manifest-problems')).toContainText(
    'createOptions is a string holding a JSON object',
  );
  await expect(editor.getByRole('button', { name: 'Send deployment' })).toBeDisabled();
  await setEditorText(page, good, 'edge-manifest-editor');
  await expect(editor.getByTestId('edge-manifest-problems')).toHaveCount(0);
  await editor.getByRole('button', { name: 'Send deployment' }).click();
  await expect(editor).toHaveCount(0);

  const row = (name: string) => edge.getByTestId(`edge-module-${name}`);
  await expect(row('sensor').getByTestId('edge-module-state')).toHaveText('running');
  await expect(row('filter').getByTestId('edge-module-state')).toHaveText('running');
  await expect(edge.getByTestId('edge-deployment-summary')).toContainText(
    'every module as deployed',
  );

  // Restart one: its restart count rises.
  await expect(row('filter').getByTestId('edge-module-restarts')).toHaveText('0');
  await row('filter').getByRole('button', { name: 'Restart filter' }).click();
  await expect(row('filter').getByTestId('edge-module-restarts')).toHaveText('1');

  // Its logs: what the module app wrote, the restart included.
  await row('filter').getByRole('button', { name: 'Logs' }).click();
  const logs = edge.getByTestId('edge-logs');
  await expect(logs.getByTestId('edge-log-lines')).toContainText('Stopped by RestartModule');
  await expect(logs.getByTestId('edge-log-lines')).toContainText('reported DateTimeLastAppLaunch');
  await logs.getByLabel('Log filter').fill('RestartModule');
  await expect(logs.getByTestId('edge-log-lines')).not.toContainText('DateTimeLastAppLaunch');

  // A broken module: it crash-loops, and the page says why.
  await edge.getByRole('button', { name: 'Set modules' }).click();
  await setEditorText(
    page,
    await manifestWith(page, deviceId, {
      ...twoModules,
      decoder: dockerModule('contoso/decoder:0.1-broken', {
        SIMULATOR_EXIT_CODE: '139',
        SIMULATOR_EXIT_AFTER_SECONDS: '1',
      }),
    }),
    'edge-manifest-editor',
  );
  await edge.getByRole('button', { name: 'Send deployment' }).click();
  await expect(row('decoder').getByTestId('edge-module-state')).toHaveText('failed', {
    timeout: 20_000,
  });
  await expect(edge.getByTestId('edge-deployment-summary')).toContainText(
    '1 module failing: decoder (exit code 139',
  );
  await expect(row('decoder').getByTestId('edge-module-description')).toContainText(
    'exited with code 139',
  );
});
