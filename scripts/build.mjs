#!/usr/bin/env node
// `npm run build` (through workspace.mjs, after the console's Vite build): the product as it
// ships, built from this workspace's TypeScript into plain JavaScript.
//
//   dist/console/                the BFF bundled (every @twinscope/* package inlined), the built
//                                console in public/, the SQL migrations, a package.json whose
//                                `start` runs it, and its production dependencies only, as
//                                `pnpm deploy --prod` installs them from the lockfile
//   dist/hub-emulator-<v>.tgz    the emulator as `npm pack` makes it: prebuilt JavaScript (also
//                                left in packages/hub-emulator/dist, which `npm start` runs), its
//                                `bin` hub-emulator, its third-party dependencies declared
//
// Third-party packages stay imports (installed, not copied into a bundle); an import that no
// shipped package.json declares fails the build, so a bundle never needs the workspace.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const pinned = readJson(join(root, 'package.json')).packageManager;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`build: ${command} ${args.join(' ')} failed`);
    process.exit(1);
  }
}

/** `lodash/fp` → `lodash`, `@azure/identity/x` → `@azure/identity`. */
const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * Bundles entry points: our packages inlined, node's own modules and third-party packages left
 * as imports. Returns the third-party packages the output imports.
 */
async function bundle({ entryPoints, outdir, declared, what }) {
  const imported = new Set();
  await build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    sourcemap: 'linked',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Stack traces name our source files; the sources themselves do not ship.
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [
      {
        name: 'third-party-stays-an-import',
        setup(builder) {
          builder.onResolve({ filter: /^[^./]/ }, ({ path }) => {
            if (path.startsWith('@twinscope/')) return undefined;
            if (path.startsWith('node:') || builtinModules.includes(path))
              return { path, external: true };
            imported.add(packageOf(path));
            return { path, external: true };
          });
        },
      },
    ],
  });
  // (hub-connection's createRequire('azure-iothub/…') calls are not seen here; azure-iothub is
  // a dependency of the BFF, which the console's smoke test runs.)
  const undeclared = [...imported].filter((name) => !declared.includes(name));
  if (undeclared.length > 0) {
    console.error(
      `build: ${what} imports ${undeclared.join(', ')}, which its package.json does not declare as a dependency`,
    );
    process.exit(1);
  }
  return imported;
}

/** The console: the BFF bundled, with the built SPA and its production dependencies. */
async function buildConsole() {
  const bff = join(root, 'apps/bff');
  const web = join(root, 'apps/web/dist');
  if (!existsSync(join(web, 'index.html'))) {
    console.error('build: the console (apps/web/dist) is not built; run `npm run build`');
    process.exit(1);
  }
  const out = join(dist, 'console');
  rmSync(out, { recursive: true, force: true });
  // The BFF's production dependencies from the lockfile (its @twinscope/* packages are
  // development dependencies: they are compiled into the bundle).
  run('npx', ['-y', pinned, '--filter', '@twinscope/bff', 'deploy', '--prod', out], {
    env: { ...process.env, npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Keep what runs: node_modules and the migrations; the deploy copied the package's files.
  for (const entry of readdirSync(out))
    if (!['node_modules', 'migrations', 'package.json'].includes(entry))
      rmSync(join(out, entry), { recursive: true, force: true });
  const manifest = readJson(join(bff, 'package.json'));
  await bundle({
    entryPoints: { main: join(bff, 'src/main.ts') },
    outdir: out,
    declared: Object.keys(manifest.dependencies),
    what: 'the BFF',
  });
  cpSync(web, join(out, 'public'), { recursive: true });
  // The Plug and Play models of npm start's demo devices: the default model repository.
  cpSync(join(root, 'packages/module-simulator/models'), join(out, 'models'), { recursive: true });
  const { version } = readJson(join(root, 'package.json'));
  writeFileSync(
    join(out, 'package.json'),
    `${JSON.stringify(
      {
        name: 'twinscope-console',
        version,
        private: true,
        description: manifest.description,
        type: 'module',
        engines: readJson(join(root, 'package.json')).engines,
        scripts: { start: 'node --enable-source-maps main.js' },
        dependencies: manifest.dependencies,
        // PostgreSQL's binaries for the embedded database, where the registry has them.
        optionalDependencies: manifest.optionalDependencies,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`build: dist/console (start it with \`npm start\` in that folder)`);
}

/** The emulator as a package of its own, packed as npm packs it. */
async function buildEmulator() {
  const source = join(root, 'packages/hub-emulator');
  const manifest = readJson(join(source, 'package.json'));
  // Staged outside the checkout: npm pack would apply its .gitignore (dist/) to the files.
  const stage = join(mkdtempSync(join(tmpdir(), 'twinscope-pack-')), 'hub-emulator');
  mkdirSync(stage);
  // What the package needs at run time: its third-party dependencies (its @twinscope/*
  // packages are compiled in; tsx is the workspace's loader, not the package's).
  const dependencies = Object.fromEntries(
    Object.entries(manifest.dependencies).filter(
      ([name]) => !name.startsWith('@twinscope/') && name !== 'tsx',
    ),
  );
  rmSync(join(source, 'dist'), { recursive: true, force: true });
  await bundle({
    entryPoints: {
      index: join(source, 'src/index.ts'),
      cli: join(source, 'src/cli.ts'),
      'connection-file': join(source, 'src/connection-file.ts'),
    },
    // Inside the package, so `npm start` runs this very code with the package's node_modules.
    outdir: join(source, 'dist'),
    declared: Object.keys(dependencies),
    what: 'the emulator',
  });
  cpSync(join(source, 'dist'), join(stage, 'dist'), { recursive: true });
  cpSync(join(source, 'bin/azurite-blob.mjs'), join(stage, 'bin/azurite-blob.mjs'));
  writeFileSync(
    join(stage, 'bin/hub-emulator.mjs'),
    "#!/usr/bin/env node\nawait import('../dist/cli.js');\n",
    { mode: 0o755 },
  );
  for (const file of ['README.md', 'DESIGN.md']) cpSync(join(source, file), join(stage, file));
  const { version } = manifest;
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify(
      {
        name: manifest.name,
        version,
        description: manifest.description,
        type: 'module',
        engines: readJson(join(root, 'package.json')).engines,
        exports: {
          '.': './dist/index.js',
          './connection-file': './dist/connection-file.js',
        },
        bin: { 'hub-emulator': './bin/hub-emulator.mjs' },
        files: ['dist', 'bin', 'README.md', 'DESIGN.md'],
        dependencies,
      },
      null,
      2,
    )}\n`,
  );
  for (const file of readdirSync(dist)) if (file.endsWith('.tgz')) rmSync(join(dist, file));
  run('npm', ['pack', '--silent', '--pack-destination', dist], { cwd: stage, stdio: 'ignore' });
  rmSync(dirname(stage), { recursive: true, force: true });
  // npm names it after the scoped name (twinscope-hub-emulator-…); the product is hub-emulator.
  const packed = `${manifest.name.replace('@', '').replace('/', '-')}-${version}.tgz`;
  const target = `hub-emulator-${version}.tgz`;
  renameSync(join(dist, packed), join(dist, target));
  console.log(`build: dist/${target} (npm install it, then npx hub-emulator)`);
}

mkdirSync(dist, { recursive: true });
const only = process.argv[2];
if (!only || only === 'console') await buildConsole();
if (!only || only === 'emulator') await buildEmulator();
