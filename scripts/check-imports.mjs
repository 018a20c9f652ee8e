#!/usr/bin/env node
// Finds import cycles across the workspace: every relative import (static, `import type`,
// `export … from`, side-effect and dynamic `import('./x')`) between the workspace's own
// source files, grouped into strongly connected components (Tarjan). A cycle makes module
// load order matter and hides a missing layer, so any component of two or more files, or a
// file importing itself, fails the check. No dependencies: it runs before `pnpm install`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = /\.(ts|tsx|mjs)$/;
const RESOLVE_AS = ['', '.ts', '.tsx', '.mjs', '.js', '/index.ts', '/index.tsx', '/index.mjs'];

/** The folders whose files are checked: apps/*\/{src,bench}, packages/*\/{src,bench}, e2e, scripts. */
function roots() {
  const found = [join(root, 'e2e'), join(root, 'scripts')];
  for (const group of ['apps', 'packages']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      for (const folder of ['src', 'bench']) found.push(join(base, entry.name, folder));
    }
  }
  return found.filter((folder) => existsSync(folder) && statSync(folder).isDirectory());
}

function walk(folder, files) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) walk(path, files);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) files.add(path);
  }
  return files;
}

/**
 * The source with comments blanked and template literals emptied, so an import written in a
 * comment or in a test's fixture text is not read as one. Quoted strings stay: they hold the
 * specifiers.
 */
function code(text) {
  return text.replace(
    /\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g,
    (token) => {
      if (token.startsWith('/')) return token.replace(/[^\n]/g, ' ');
      if (token.startsWith('`')) return '``';
      return token;
    },
  );
}

const IMPORTS = [
  // import x from, import { a } from, import type { T } from, export { a } from, export * from
  /\b(?:import|export)\s[^'";]*?\bfrom\s*(['"])(\.[^'"]*)\1/g,
  // import './side-effect.ts'
  /\bimport\s*(['"])(\.[^'"]*)\1/g,
  // import('./lazy.ts')
  /\bimport\s*\(\s*(['"])(\.[^'"]*)\1\s*\)/g,
];

function specifiers(text) {
  const source = code(text);
  const found = new Set();
  for (const pattern of IMPORTS) for (const match of source.matchAll(pattern)) found.add(match[2]);
  return found;
}

function resolveImport(from, specifier, files) {
  const base = resolve(dirname(from), specifier);
  const stems = [base];
  // TypeScript lets `./x.js` name `./x.ts`.
  if (/\.m?js$/.test(base)) stems.push(base.replace(/\.(m?)js$/, '.$1ts'));
  for (const stem of stems)
    for (const suffix of RESOLVE_AS) if (files.has(stem + suffix)) return stem + suffix;
  return undefined;
}

/** Tarjan's strongly connected components, iteratively (no recursion limit on long chains). */
function components(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [{ node: start, edges: [...graph.get(start)], at: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame.at < frame.edges.length) {
        const target = frame.edges[frame.at++];
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, edges: [...graph.get(target)], at: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node), index.get(target)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        found.push(component);
      }
    }
  }
  return found;
}

/** One shortest loop from `start` back to itself inside its component, to show the way round. */
function loopThrough(start, graph, members) {
  const previous = new Map();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    for (const target of graph.get(node)) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)) path.unshift(at);
        path.unshift(start);
        return path;
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start];
}

const files = new Set();
for (const folder of roots()) walk(folder, files);
const graph = new Map();
for (const file of files) {
  const targets = new Set();
  for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
    const target = resolveImport(file, specifier, files);
    if (target) targets.add(target);
  }
  graph.set(file, targets);
}

const name = (file) => relative(root, file);
const cycles = components(graph)
  .filter((component) => component.length > 1 || graph.get(component[0]).has(component[0]))
  .map((component) => component.map(name).sort())
  .sort((a, b) => a[0].localeCompare(b[0]));

if (cycles.length === 0) {
  console.log(`no import cycles in ${files.size} files`);
  process.exit(0);
}
console.error(`${cycles.length} import cycle(s) in ${files.size} files:`);
for (const [n, cycle] of cycles.entries()) {
  const members = new Set(cycle.map((file) => join(root, file)));
  const loop = loopThrough(join(root, cycle[0]), graph, members).map(name);
  console.error(`\ncycle ${n + 1}: ${cycle.length} file(s)`);
  for (const file of cycle) console.error(`  ${file}`);
  console.error(`  for example: ${loop.join(' -> ')}`);
}
process.exit(1);
