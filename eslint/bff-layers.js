/**
 * The BFF's layers (apps/bff/DESIGN.md), enforced on its production files. From the top:
 *
 * - composition: `main.ts`, `compose.ts`, `app.ts` and `config/` wire everything;
 * - `routes/`: thin Express routes over the services; every /api route is a row of the
 *   authorization policy (registered through `http/policy-router.ts`);
 * - `http/`: Express plumbing (errors, guards, sessions, validation);
 * - the services: `services/`, `rollouts/`, `history/`, `audit/`, `live/`, with the rules;
 * - `quota/`: the hub's budgets, which the adapters spend;
 * - `adapters/`: the only code that touches an SDK, a database driver or Redis;
 * - `core/`: what every layer raises and passes (AppError, the call context, the policy's
 *   check, the query language's text), importing no other layer.
 *
 * A file sits in exactly one zone below: ESLint keeps only the last `no-restricted-imports`
 * options that apply to a file, so zones must not overlap.
 */
const SRC = 'apps/bff/src';
const TESTS = ['**/*.test.ts', `${SRC}/test/**`];

const into = (folder, message) => ({ regex: `^(\\.\\./)+${folder}/`, message });
const composition = {
  regex: '^(\\.\\./)+(app|compose|main)\\.ts$|^(\\.\\./)+config/',
  message: 'main.ts, compose.ts, app.ts and config/ compose the layers; no layer imports them',
};
const SDKS = [
  'azure-iothub',
  'azure-iot-common',
  '@azure/*',
  'pg',
  '@electric-sql/pglite',
  'redis',
  'connect-redis',
  '@twinscope/hub-connection',
];
const sdks = {
  group: SDKS,
  message:
    "only adapters/ import an SDK, a database driver or Redis: put what you need behind the adapter's interface",
};
const express = {
  group: ['express', 'express-*'],
  message: 'Express belongs to routes/ and http/: the layers below answer no HTTP request',
};
const SERVICES = ['services', 'rollouts', 'history', 'audit', 'live'];
const upward = (what, folders) =>
  folders.map((folder) => into(folder, `${what} does not import ${folder}/, a layer above it`));

const zone = (folders, patterns) => ({
  files: folders.map((folder) => `${SRC}/${folder}`),
  ignores: TESTS,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default [
  zone(
    ['core/**/*.ts'],
    [
      {
        regex: '^\\.\\./',
        message: 'core/ imports no other layer: every layer imports it',
      },
      sdks,
      express,
    ],
  ),
  zone(
    ['adapters/**/*.ts'],
    [
      ...upward('an adapter', ['routes', 'http', ...SERVICES]),
      composition,
      // The session store adapter implements express-session's Store: that much is allowed.
      { group: ['express'], message: express.message },
    ],
  ),
  zone(
    ['quota/**/*.ts'],
    [...upward('quota/', ['routes', 'http', 'adapters', ...SERVICES]), composition, sdks, express],
  ),
  zone(
    SERVICES.map((folder) => `${folder}/**/*.ts`),
    [...upward('a service', ['routes', 'http']), composition, sdks, express],
  ),
  zone(
    ['http/**/*.ts'],
    [
      ...upward('http/', ['routes']),
      into('adapters', 'http/ reaches no adapter'),
      composition,
      sdks,
    ],
  ),
  zone(
    ['routes/**/*.ts'],
    [
      into(
        'adapters',
        'routes never import adapters: a route calls a service, which holds the adapter',
      ),
      composition,
      sdks,
    ],
  ),
  {
    // The live hub is the one place live events are made; everyone else is its input.
    files: [`${SRC}/**/*.ts`],
    ignores: [...TESTS, `${SRC}/live/live-hub.ts`, `${SRC}/live/broker.ts`],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^publish/]',
          message:
            'only live/live-hub.ts publishes live events: hand what happened to the live hub as one of its inputs',
        },
      ],
    },
  },
  {
    // Every /api route is a row of the authorization policy: routes are registered through
    // http/policy-router.ts. The sign-in routes (/auth/*) are outside /api and the policy.
    files: [`${SRC}/routes/**/*.ts`],
    ignores: [...TESTS, `${SRC}/routes/sign-in.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'express',
              importNames: ['Router'],
              allowTypeImports: true,
              message:
                'register routes with policyRouter() (http/policy-router.ts), so each has a rule in the authorization policy',
            },
          ],
        },
      ],
    },
  },
];
