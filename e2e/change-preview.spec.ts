import { expect, test } from '@playwright/test';
import { setEditorText } from './editor.ts';
import { hubTwin } from './hub.ts';

test('preview a fleet change: from the list filtered by a site, a dry run counts the devices, those that would change, shows some before and after, and writes nothing', async ({
  page,
}) => {
  await page.goto('/devices?tag=site%3Dlyon');
  await page.getByRole('button', { name: 'Preview a change…' }).click();
  await expect(page).toHaveURL(/\/rollouts\/preview\?tag=site%3Dlyon/);

  const preview = page.getByTestId('change-preview');
  await expect(preview).toContainText('tag site=lyon');
  // Not JSON: said before anything is sent.
  await setEditorText(page, '{"tags": ', 'change-editor');
  await preview.getByRole('button', { name: 'Dry run' }).click();
  await expect(page.getByTestId('dry-run-error')).toContainText('not JSON');

  // A key the twin rules refuse is marked in the editor as it is typed, and refused by the BFF.
  await setEditorText(page, '{"tags": {"bad key$": 1}}', 'change-editor');
  await expect(page.locator('[data-testid=change-editor] .squiggly-error')).not.toHaveCount(0);
  await preview.getByRole('button', { name: 'Dry run' }).click();
  await expect(page.getByTestId('dry-run-error')).toContainText('twin rules');

  const before = await hubTwin('lyon-north-meter-08');
  await setEditorText(page, '{"tags": {"rollout": "preview"}}', 'change-editor');
  await preview.getByRole('button', { name: 'Dry run' }).click();
  const result = page.getByTestId('dry-run-result');
  await expect(result).toContainText('4 devices match; 4 would change and 0 already hold it.');
  await expect(result.getByTestId('dry-run-sample').getByRole('row')).toHaveCount(5);
  await expect(result.getByTestId('dry-run-sample')).toContainText('"rollout": "preview"');
  expect((await hubTwin('lyon-north-meter-08')).version).toBe(before.version);
});
