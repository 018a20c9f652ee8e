import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
// The emulator's and the BFF's layers, one zone per folder.
import bffLayers from './eslint/bff-layers.js';
import emulatorLayers from './eslint/emulator-layers.js';

/**
 * The console's feature folders. A feature never imports another feature or `app/`; `app/`
 * composes them. `lib/` and `components/` are shared and import no feature.
 */
const WEB = 'apps/web/src';
const features = readdirSync(new URL(`./${WEB}/features`, import.meta.url), {
  withFileTypes: true,
})
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const intoFeature = (name) => ({
  // Relative imports only: a package may have a folder called features (monaco-editor does).
  regex: `^(\\.\\.?/)+(.*/)?features/${escape(name)}/|^\\.\\./\\.\\./${escape(name)}/|^\\.\\./${escape(name)}/`,
  message: `features do not import each other: move what both need to lib/ or components/, or compose them in app/ (imports feature "${name}")`,
});
const intoApp = {
  regex: '^(\\.\\.?/)+(.*/)?app/',
  message: 'only app/ composes features; nothing imports app/',
};
const featureBoundaries = [
  ...features.map((feature) => ({
    files: [`${WEB}/features/${feature}/**/*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...features.filter((f) => f !== feature).map(intoFeature), intoApp],
        },
      ],
    },
  })),
  {
    files: [`${WEB}/lib/**/*.{ts,tsx}`, `${WEB}/components/**/*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\.?/)+(.*/)?features/',
              message: 'lib/ and components/ are shared: they import no feature',
            },
            intoApp,
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    files: [`${WEB}/**/*.{ts,tsx}`],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  ...featureBoundaries,
  // The emulator's layers (packages/hub-emulator/DESIGN.md, "Shape").
  ...emulatorLayers,
  // The BFF's layers (apps/bff/DESIGN.md).
  ...bffLayers,
  {
    // Tests read loosely typed JSON answers.
    files: ['**/*.test.ts', '**/test/**', 'e2e/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CLIs and benchmarks talk to a person on the terminal.
    files: ['**/cli.ts', '**/bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
