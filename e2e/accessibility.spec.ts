import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';

/**
 * Every page of the console, checked by axe-core against WCAG 2 A and AA, in light and dark
 * themes: each page once its content is in (the device page with its editor loaded).
 */
const PAGES: { path: string; ready: (page: Page) => Promise<void> }[] = [
  {
    path: '/overview',
    ready: (page) => expect(page.getByTestId('chart-connection')).toBeVisible(),
  },
  {
    path: '/devices',
    ready: (page) => expect(page.getByTestId('device-row').first()).toBeVisible(),
  },
  {
    // The list in its module mode: module twins across the fleet.
    path: "/devices?source=modules&where=moduleId%20%3D%20'controller'",
    ready: (page) => expect(page.getByTestId('module-row').first()).toBeVisible(),
  },
  {
    path: '/devices/berlin-b1-meter-03',
    ready: (page) => expect(page.locator('.monaco-editor').first()).toBeVisible(),
  },
  {
    path: '/devices/lyon-north-gateway-07/modules/controller',
    ready: (page) => expect(page.locator('.monaco-editor').first()).toBeVisible(),
  },
  {
    // A Plug and Play device: its model's components as forms.
    path: '/devices/oslo-lab-controller-16',
    ready: (page) => expect(page.getByRole('region', { name: /\(thermostat1\)$/ })).toBeVisible(),
  },
  {
    path: '/devices/lyon-edge-gateway-01',
    ready: (page) => expect(page.getByText('modbus-decoder').first()).toBeVisible(),
  },
  {
    path: '/activity',
    ready: (page) => expect(page.getByRole('region', { name: 'Fleet activity' })).toBeVisible(),
  },
  {
    path: '/rollouts',
    ready: (page) => expect(page.getByRole('region', { name: 'Rollouts' })).toBeVisible(),
  },
  {
    path: '/configurations',
    ready: (page) => expect(page.getByRole('region', { name: 'Configurations' })).toBeVisible(),
  },
  {
    path: '/provisioning',
    ready: (page) => expect(page.getByRole('table', { name: 'Enrollment groups' })).toBeVisible(),
  },
  {
    path: '/fleet/jobs',
    ready: (page) => expect(page.getByRole('heading', { name: 'Import / export' })).toBeVisible(),
  },
  {
    path: '/audit',
    ready: (page) => expect(page.getByRole('region', { name: 'Audit trail' })).toBeVisible(),
  },
];

/**
 * Fluent UI's focus manager (tabster) puts `<i data-tabster-dummy tabindex="0"
 * aria-hidden="true">` sentinels around focus groups: focusable on purpose, they pass focus
 * on the moment they get it, and are hidden so screen readers skip them. axe's
 * aria-hidden-focus flags them; Microsoft's own Accessibility Insights suppresses exactly
 * this (microsoft/tabster#288, accessibility-insights-web#7605), and so does this check,
 * for those elements alone.
 */
function tabsterSentinel(rule: string, html: string): boolean {
  return rule === 'aria-hidden-focus' && /^<i [^>]*data-tabster-dummy=""/.test(html);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`accessibility (${scheme}): axe-core finds no WCAG 2 A or AA violation on any page of the console`, async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await page.emulateMedia({ colorScheme: scheme });
    const found: string[] = [];
    for (const { path, ready } of PAGES) {
      await page.goto(path);
      await ready(page);
      // Live content settles (streams connect, first events arrive) before the check.
      await page.waitForTimeout(500);
      const { violations } = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      for (const violation of violations)
        for (const node of violation.nodes.filter((n) => !tabsterSentinel(violation.id, n.html)))
          found.push(
            `${path}: ${violation.id}: ${node.target.join(' ')}: ${node.failureSummary ?? ''}`,
          );
    }
    expect(found, found.join('\n\n')).toEqual([]);
  });
}
