import { expect, test, type Page } from '@playwright/test';
import { E2E_SIGN_IN_DATA_DIR } from '../playwright.config.ts';
import { editable, openTwinPage, setEditorText } from './editor.ts';
import { hubTwin, useHubOf } from './hub.ts';

// `npm start -- --sign-in`: the console behind Entra-style sign-in, on the dev identity
// provider (oidc-provider) through the same msal-node code that talks to Entra ID.
useHubOf(E2E_SIGN_IN_DATA_DIR);

async function signInAs(page: Page, name: string, path = '/devices') {
  await page.goto(path);
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/:14443\/interaction\//);
  await page.getByRole('button', { name: new RegExp(`Sign in as ${name}`) }).click();
  await expect(page).toHaveURL(new RegExp(`:3108${path.replace(/\//g, '\\/')}$`));
}

/** A request made by hand from the signed-in page, as a curious operator might. */
async function fetchFromPage(
  page: Page,
  path: string,
  init: { method: string; body?: unknown; csrf: boolean },
) {
  return page.evaluate(
    async ({ path, init }) => {
      const me = (await (await fetch('/api/me')).json()) as { csrfToken: string };
      const response = await fetch(path, {
        method: init.method,
        headers: {
          'Content-Type': 'application/json',
          ...(init.csrf ? { 'X-CSRF-Token': me.csrfToken } : {}),
        },
        body: JSON.stringify(init.body),
      });
      return { status: response.status, body: (await response.json()) as { message: string } };
    },
    { path, init },
  );
}

test('reader: browses and sees who they are, but cannot save or manage modules; hand-made changes are refused', async ({
  page,
}) => {
  const deviceId = 'berlin-b1-meter-03';
  await signInAs(page, 'Riley Reader');
  // The seeded dozen, the demo's IoT Edge device, and the sensor that provisioned itself
  // through the demo's enrollment group (the emulator's Device Provisioning Service).
  await expect(page.getByTestId('device-row')).toHaveCount(16);
  await expect(page.getByTestId('user-menu')).toHaveText('Riley Reader · Reader');
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'live');

  await openTwinPage(page, `/devices/${deviceId}`);
  await expect(page.getByRole('button', { name: 'Save', exact: true })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Add module' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Invoke' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Send message' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Disable device' })).toBeDisabled();
  // A Reader may watch telemetry.
  await expect(page.getByTestId('telemetry-viewer').getByRole('switch')).toBeChecked();

  const { etag } = await hubTwin(deviceId);
  const patch = { etag, tags: { byHand: true } };
  const noHeader = await fetchFromPage(page, `/api/devices/${deviceId}/twin`, {
    method: 'PATCH',
    body: patch,
    csrf: false,
  });
  expect(noHeader.status).toBe(403);
  expect(noHeader.body.message).toMatch(/X-CSRF-Token/);
  const withHeader = await fetchFromPage(page, `/api/devices/${deviceId}/twin`, {
    method: 'PATCH',
    body: patch,
    csrf: true,
  });
  expect(withHeader.status).toBe(403);
  expect(withHeader.body.message).toMatch(/needs the Operator role/);
  expect((await hubTwin(deviceId)).etag).toBe(etag);
});

test('operator: a saved change shows in the history with their name, and reverting it puts the twin back', async ({
  page,
}) => {
  const deviceId = 'toronto-hq-hvac-12';
  const before = await hubTwin(deviceId);
  await signInAs(page, 'Oscar Operator', `/devices/${deviceId}`);
  await expect(page.getByTestId('user-menu')).toHaveText('Oscar Operator · Operator');
  await openTwinPage(page, `/devices/${deviceId}`);
  const doc = editable(before);
  doc.tags = { ...doc.tags, reviewedBy: 'oscar' };
  await setEditorText(page, JSON.stringify(doc, null, 2));
  await page.getByRole('button', { name: 'Review changes' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved. Only the changed keys were sent.')).toBeVisible();
  expect((await hubTwin(deviceId)).tags['reviewedBy']).toBe('oscar');

  const entry = page.getByTestId('history-entry').first();
  await expect(entry).toContainText('Oscar Operator changed the twin');
  await expect(entry).toContainText('"reviewedBy":"oscar"');
  await entry.getByRole('button', { name: 'Revert' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('revert-patch')).toHaveText(
    JSON.stringify({ tags: { reviewedBy: null } }, null, 2),
  );
  await dialog.getByRole('button', { name: 'Revert' }).click();
  await expect(page.getByTestId('history-entry').first()).toContainText(
    'Oscar Operator changed the twin (revert)',
  );
  expect((await hubTwin(deviceId)).tags).toEqual(before.tags);
});

test('admin: may manage modules; signing out ends the session, and another tab’s live stream sends it to sign-in', async ({
  page,
  context,
}) => {
  await signInAs(page, 'Ada Admin', '/devices/berlin-b1-meter-03');
  await expect(page.getByTestId('user-menu')).toHaveText('Ada Admin · Admin');
  await expect(page.getByRole('button', { name: 'Add module' })).toBeEnabled();

  const other = await context.newPage();
  await other.goto('/devices');
  await expect(other.getByTestId('live-status')).toHaveAttribute('data-state', 'live');

  await page.getByTestId('user-menu').click();
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/:14443\/session\/end/);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL('http://127.0.0.1:3108/');
  await expect(page.getByTestId('sign-in')).toBeVisible();

  // The other tab was told by its stream, without a reload.
  await expect(other.getByTestId('sign-in')).toBeVisible();
  const me = await other.evaluate(async () => (await fetch('/api/me')).status);
  expect(me).toBe(401);
});
