// What the telemetry plot's chart library (uPlot) costs in a real browser: the first draw of
// 10,000 points in four lines, then the plot kept live (a point a message, the window sliding
// over the newest 10,000, as the console's plot does) at 20 messages a second for 10 s, with
// the browser's frame times meanwhile. Runs in Chromium (Debian's, or Playwright's), on a page
// of its own; nothing leaves the machine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { root } from './bench-kit.ts';

const POINTS = Number(process.env['BENCH_POINTS'] ?? 10_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const PER_SECOND = Number(process.env['BENCH_PER_SECOND'] ?? 20);

/** What runs in the page: draw, then keep it live, timing both. */
const BROWSER_MEASURE = String.raw`async ({ points, seconds, perSecond }) => {
      const start = Date.now() / 1000 - points;
      const times = [];
      const lines = [[], [], [], []];
      for (let i = 0; i < points; i++) {
        times.push(start + i);
        lines.forEach((line, s) => line.push(20 + s * 5 + Math.sin(i / 50 + s) * 3));
      }
      const t0 = performance.now();
      const UPlot = window.uPlot;
      const plot = new UPlot(
        {
          width: 1200,
          height: 220,
          scales: { x: { time: true } },
          series: [
            {},
            ...lines.map((_, s) => ({ label: 'field ' + s, stroke: '#0f6cbd', width: 2 })),
          ],
        },
        [times, ...lines],
        document.getElementById('plot'),
      );
      // The first frame after it was made: what an operator waits for.
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const firstDrawMs = performance.now() - t0;

      const frames = [];
      const updates = [];
      let last = performance.now();
      let running = true;
      const frame = (now) => {
        frames.push(now - last);
        last = now;
        if (running) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      let i = points;
      const timer = setInterval(() => {
        times.push(start + i);
        times.shift();
        lines.forEach((line, s) => {
          line.push(20 + s * 5 + Math.sin(i / 50 + s) * 3);
          line.shift();
        });
        i++;
        const u0 = performance.now();
        plot.setData([times, ...lines]);
        updates.push(performance.now() - u0);
      }, 1000 / perSecond);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      clearInterval(timer);
      running = false;
      const sorted = (list) => [...list].sort((a, b) => a - b);
      const at = (list, p) =>
        sorted(list)[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? 0;
      return {
        firstDrawMs,
        updates: updates.length,
        updateP50: at(updates, 50),
        updateP95: at(updates, 95),
        frames: frames.length,
        frameP50: at(frames, 50),
        frameP95: at(frames, 95),
        frameMax: Math.max(...frames),
        longFrames: frames.filter((f) => f > 50).length,
      };
    }`;

const dist = join(root, 'apps/web/node_modules/uplot/dist');
const executablePath =
  process.env['CHROMIUM_PATH'] ??
  (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const browser = await chromium.launch(executablePath ? { executablePath } : {});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.setContent(
    `<!doctype html><html><head><style>${readFileSync(join(dist, 'uPlot.min.css'), 'utf8')}</style></head>` +
      `<body><div id="plot"></div><script>${readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8')}</script></body></html>`,
  );
  // Plain JavaScript, as the page runs it (no compiler helpers in the page).
  const measure = `(${BROWSER_MEASURE})(${JSON.stringify({ points: POINTS, seconds: SECONDS, perSecond: PER_SECOND })})`;
  const figures = (await page.evaluate(measure)) as {
    firstDrawMs: number;
    updates: number;
    updateP50: number;
    updateP95: number;
    frames: number;
    frameP50: number;
    frameP95: number;
    frameMax: number;
    longFrames: number;
  };
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(
    `telemetry plot (uPlot ${JSON.parse(readFileSync(join(dist, '../package.json'), 'utf8')).version}) in Chromium, ${POINTS} points × 4 lines`,
  );
  console.log(`  first draw                                   ${ms(figures.firstDrawMs)}`);
  console.log(
    `  live: ${figures.updates} updates in ${SECONDS} s (${PER_SECOND}/s), each p50 ${ms(figures.updateP50)}, p95 ${ms(figures.updateP95)}`,
  );
  console.log(
    `  frames meanwhile: ${figures.frames}, p50 ${ms(figures.frameP50)}, p95 ${ms(figures.frameP95)}, longest ${ms(figures.frameMax)}`,
  );
  console.log(`  frames over 50 ms (a stutter one sees)        ${figures.longFrames}`);
} finally {
  await browser.close();
}
