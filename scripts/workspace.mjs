#!/usr/bin/env node
// Entry point for the README's two commands on a machine that has only Node.js and npm.
// It bootstraps the pnpm version pinned in package.json through npx, installs the
// workspace from the lockfile, then runs the requested task with that pnpm.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`twinscope: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  return result.status ?? 1;
}

function pnpm(args) {
  return run('npx', ['-y', pinned, ...args], {
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

function must(status, what) {
  if (status !== 0) {
    console.error(`twinscope: ${what} failed (exit ${status})`);
    process.exit(status);
  }
}

function install() {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : [];
  must(pnpm(['install', ...frozen, '--reporter=append-only']), 'pnpm install');
}

const tasks = {
  test() {
    install();
    must(pnpm(['run', 'check:lint']), 'lint');
    must(pnpm(['run', 'check:format']), 'format check');
    must(pnpm(['run', 'check:types']), 'type check');
    must(pnpm(['run', 'check:unit']), 'unit and conformance tests');
  },
  start() {
    install();
    must(pnpm(['run', 'build:web']), 'building the console');
    must(run(process.execPath, ['scripts/start-stack.mjs']), 'start');
  },
};

const task = tasks[process.argv[2] ?? ''];
if (!task) {
  console.error(`usage: node scripts/workspace.mjs <${Object.keys(tasks).join('|')}>`);
  process.exit(2);
}
task();
