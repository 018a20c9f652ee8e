// What the built console weighs, from Vite's manifest: every JavaScript file the build emits,
// what the first page loads, and what the first edit loads (the page, the lazy Monaco chunk
// with what it imports, and the editor and JSON workers). Sizes are gzip.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

export interface BundleSizes {
  /** Every .js file in the build. */
  allBytes: number;
  allFiles: number;
  /** The entry and its static imports. */
  initialBytes: number;
  /** The first edit: initial + the Monaco chunk and everything it loads, workers included. */
  firstEditBytes: number;
  /** The landing page: initial + the overview's chunk (its charts are drawn in HTML and SVG). */
  overviewBytes: number;
  /** What plotting a device's telemetry adds once opened (the plot and uPlot). */
  plotBytes: number;
}

export function bundleSizes(dist: string): BundleSizes {
  const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const gz = (file: string) => gzipSync(readFileSync(join(dist, file))).length;
  const closure = (keys: string[], dynamic: boolean, seen = new Set<string>()) => {
    for (const key of keys) {
      if (seen.has(key) || !manifest[key]) continue;
      seen.add(key);
      const chunk = manifest[key];
      closure(chunk.imports ?? [], dynamic, seen);
      if (dynamic) closure(chunk.dynamicImports ?? [], dynamic, seen);
    }
    return seen;
  };
  const entry = Object.keys(manifest).filter((key) => manifest[key]!.isEntry);
  const initial = closure(entry, false);
  // Editing a device twin: the device page's chunk (loaded when opened), then Monaco and
  // everything it loads.
  const page = Object.keys(manifest).filter((key) => /routes\/device-route\.tsx$/.test(key));
  const editor = Object.keys(manifest).filter((key) => /components\/monaco\.tsx$/.test(key));
  const firstEdit = closure(page, false, new Set(initial));
  for (const key of editor) closure([key], true, firstEdit);
  const landing = closure(
    Object.keys(manifest).filter((key) => /routes\/overview-route\.tsx$/.test(key)),
    false,
    new Set(initial),
  );
  const plot = closure(
    Object.keys(manifest).filter((key) => /components\/telemetry-plot\.tsx$/.test(key)),
    false,
    new Set(initial),
  );
  for (const key of initial) plot.delete(key);
  const files = (keys: Set<string>) =>
    new Set([...keys].map((key) => manifest[key]!.file).filter((file) => file.endsWith('.js')));
  const assets = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
  // Workers are started by the Monaco chunk at run time; the manifest does not list them.
  const workers = assets.filter((f) => /\.worker-/.test(f)).map((f) => `assets/${f}`);
  const sum = (list: Iterable<string>) => [...list].reduce((total, file) => total + gz(file), 0);
  return {
    allBytes: sum(assets.map((f) => `assets/${f}`)),
    allFiles: assets.length,
    initialBytes: sum(files(initial)),
    firstEditBytes: sum(new Set([...files(firstEdit), ...workers])),
    overviewBytes: sum(files(landing)),
    plotBytes: sum(files(plot)),
  };
}

export function describeSizes(sizes: BundleSizes): string[] {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  return [
    `  all JS the build emits, gzip (${sizes.allFiles} files)             ${kb(sizes.allBytes)}`,
    `  what the first edit loads (page + Monaco + workers), gzip  ${kb(sizes.firstEditBytes)}`,
    `  initial JS, gzip                                          ${kb(sizes.initialBytes)}`,
    `  the landing page (initial + overview), gzip               ${kb(sizes.overviewBytes)}`,
    `  the telemetry plot when opened (plot + uPlot), gzip       ${kb(sizes.plotBytes)}`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dist = join(import.meta.dirname, '../../web/dist');
  console.log('console bundle (apps/web/dist)');
  for (const line of describeSizes(bundleSizes(dist))) console.log(line);
}
