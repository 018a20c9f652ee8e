/**
 * The emulator's layers (packages/hub-emulator/DESIGN.md, "Shape"), enforced on relative
 * imports. From the bottom up:
 *
 * - `store/` and `errors.ts`: state and IoT Hub's rules, with no transport in them;
 * - the services over the store (`auth/`, `devices/`, `c2d/`, `jobs/`, `configurations/`,
 *   `query/`), which every protocol layer shares;
 * - the protocol layers, one per wire: `http/` (the pipeline), `mqtt/`, `amqp/`, and
 *   `events/` (the Event Hubs-compatible endpoint, a user of `amqp/`);
 * - `operations/`: the rows of the HTTP pipeline's table, written against `http/operation.ts`;
 * - `emulator.ts`, `cli.ts` and `index.ts`, which compose all of it, with the steps of
 *   `emulator.ts` in `compose/` (only they, the conformance tests and the benches see
 *   everything).
 *
 * A file sits in exactly one zone below: ESLint keeps only the last `no-restricted-imports`
 * options that apply to a file, so zones must not overlap.
 */
const SRC = 'packages/hub-emulator/src';

const into = (folder, message) => ({ regex: `^(\\.\\./)+${folder}/`, message });
const composition = {
  regex: '^(\\.\\./)+((emulator|cli|index)\\.ts$|compose/)',
  message: 'emulator.ts, cli.ts, index.ts and compose/ compose the layers; no layer imports them',
};
const protocol = (except = []) =>
  ['http', 'operations', 'mqtt', 'amqp', 'events']
    .filter((layer) => !except.includes(layer))
    .map((layer) =>
      into(
        layer,
        `a protocol layer (${layer}/) is not imported here: state, rules and services have no transport in them, and one wire does not reach into another`,
      ),
    );
const services = ['auth', 'devices', 'c2d', 'jobs', 'configurations', 'query', 'uploads'];

const zone = (folders, patterns) => ({
  files: folders.map((folder) => `${SRC}/${folder}`),
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default [
  zone(
    ['store/**/*.ts', 'errors.ts'],
    [
      ...protocol(),
      ...services.map((folder) =>
        into(
          folder,
          `store/ holds state and IoT Hub's rules; the services over it (${folder}/) are not imported here`,
        ),
      ),
      composition,
    ],
  ),
  zone(
    services.map((folder) => `${folder}/**/*.ts`),
    [...protocol(), composition],
  ),
  zone(
    ['http/**/*.ts'],
    [
      into(
        'operations',
        'http/ never imports operations/: the pipeline is handed its table (operations/index.ts) by emulator.ts',
      ),
      ...protocol(['http', 'operations']),
      composition,
    ],
  ),
  // Each wire on its own: MQTT and AMQP do not import each other.
  zone(['mqtt/**/*.ts'], [...protocol(['mqtt']), composition]),
  zone(['amqp/**/*.ts'], [...protocol(['amqp']), composition]),
  zone(['events/**/*.ts'], [...protocol(['events', 'amqp']), composition]),
  // compose/ holds emulator.ts's steps: it sees every layer but not what it is composed into.
  zone(
    ['compose/**/*.ts'],
    [
      {
        regex: '^(\\.\\./)+(emulator|cli|index)\\.ts$',
        message:
          'compose/ holds the steps emulator.ts runs; it does not import emulator.ts, cli.ts or index.ts',
      },
    ],
  ),
  zone(
    ['operations/**/*.ts'],
    [
      ...protocol(['operations', 'http']),
      {
        regex: '^(\\.\\./)+http/(?!operation\\.ts$|precondition\\.ts$)',
        message:
          'an operation is a row of the pipeline: it takes http/operation.ts and http/precondition.ts, not the pipeline itself',
      },
      composition,
    ],
  ),
];
