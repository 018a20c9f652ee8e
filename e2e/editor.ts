import { expect, type Page } from '@playwright/test';
import type { TwinJson } from './hub.ts';

export function editable(twin: TwinJson) {
  const { $metadata: _m, $version: _v, ...desired } = twin.properties.desired;
  return { tags: twin.tags, properties: { desired } };
}

export async function openTwinPage(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('[data-testid=twin-json-editor] .monaco-editor')).toBeVisible();
}

/**
 * Replaces the editor's text as an operator pasting a document would: select all, then a
 * paste event (typed text would get Monaco's auto-closing brackets and auto-indent).
 */
export async function setEditorText(page: Page, text: string, testId = 'twin-json-editor') {
  await page.locator(`[data-testid=${testId}] .view-lines`).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.evaluate((content) => {
    const clipboardData = new DataTransfer();
    clipboardData.setData('text/plain', content);
    document.activeElement?.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }),
    );
  }, text);
}

export const editorLines = (page: Page) =>
  page.locator('[data-testid=twin-json-editor] .view-lines');
