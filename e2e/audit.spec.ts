import { expect, test } from '@playwright/test';

test("audit trail: a change made elsewhere appears live on the fleet's audit page; filters are a deep link", async ({
  page,
}) => {
  const deviceId = 'berlin-b1-meter-03';
  await page.goto(`/audit?deviceId=${deviceId}`);
  const audit = page.getByTestId('fleet-audit');
  await expect(audit.getByLabel('Filter by device')).toHaveValue(deviceId);
  await expect(page.getByText('Loading the audit trail…')).toHaveCount(0);
  const before = await audit.getByTestId('audit-row').count();

  // Someone changes the twin through the BFF (another tab, another replica): no reload here.
  const me = (await (await page.request.get('/api/me')).json()) as { csrfToken: string };
  const { twin } = (await (await page.request.get(`/api/devices/${deviceId}`)).json()) as {
    twin: { etag: string };
  };
  const patched = await page.request.patch(`/api/devices/${deviceId}/twin`, {
    headers: { 'X-CSRF-Token': me.csrfToken },
    data: { etag: twin.etag, tags: { auditedFromE2e: Date.now() } },
  });
  expect(patched.status()).toBe(200);
  await expect(audit.getByTestId('audit-row')).toHaveCount(before + 1);
  const row = audit.getByTestId('audit-row').first();
  await expect(row).toContainText('changed the twin');
  await expect(row).toContainText('succeeded');
  await expect(row.getByRole('link', { name: deviceId })).toHaveAttribute(
    'href',
    `/devices/${deviceId}`,
  );

  // Another kind: the twin change is not among the direct methods; the URL says so.
  await audit.getByLabel('Filter by kind').selectOption('method');
  await expect(page).toHaveURL(/kind=method/);
  await expect(audit.getByText('changed the twin')).toHaveCount(0);
  await page.reload();
  await expect(audit.getByLabel('Filter by kind')).toHaveValue('method');
  await expect(audit.getByLabel('Filter by device')).toHaveValue(deviceId);
});
