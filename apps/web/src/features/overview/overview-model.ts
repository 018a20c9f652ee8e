import type { OverviewBar } from '@twinscope/contract';

/**
 * The device list (or the module list) filtered to what a bar counts, or nothing when it is
 * not a list of twins.
 */
export function listPath(
  bar: OverviewBar,
  source: 'devices' | 'modules' = 'devices',
): string | undefined {
  if (bar.where === undefined) return undefined;
  const params = new URLSearchParams(source === 'modules' ? { source } : {});
  params.set('where', bar.where);
  return `/devices?${params.toString()}`;
}

/** "just now", "2 min ago", "3 h ago", "2 days ago": how old a look is, in words. */
export function ago(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** "every 75 s", "every 4 min": how often the hub is looked at. */
export function every(seconds: number): string {
  if (seconds < 120) return `every ${seconds} s`;
  if (seconds < 7200) return `every ${Math.round(seconds / 60)} min`;
  return `every ${Math.round(seconds / 3600)} h`;
}

/** A bar's length as a share of the longest (0 to 100), a visible sliver for any count. */
export function barPercent(count: number, max: number): number {
  if (max <= 0 || count <= 0) return 0;
  return Math.max(2, Math.round((count / max) * 100));
}

/** "12 devices", "1 device"; "3 modules". */
export function devices(count: number, noun: 'device' | 'module' = 'device'): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Keys as typed: comma- or space-separated dotted paths, without `properties.desired.`. */
export function keysFromText(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((k) => k.trim().replace(/^properties\.desired\./, ''))
    .filter(Boolean);
}

/** The box a trend is drawn in (SVG user units). */
export interface PlotBox {
  width: number;
  height: number;
  pad: number;
}

/**
 * A series as an SVG path: x by when each point was taken (an hour without a point takes the
 * room an hour takes), y from 0 to `top`. A gap of more than one and a half steps (no replica
 * looked then) starts a new stroke rather than draw a line through what nobody saw. A point
 * alone between gaps (the newest after a restart, say) is a short level stroke, since SVG
 * draws nothing for a lone point; so is the very first look.
 */
export function linePath(
  points: { at: number; value: number }[],
  top: number,
  stepMs: number,
  box: PlotBox,
): string {
  if (points.length === 0) return '';
  const first = points[0]!.at;
  const span = points.at(-1)!.at - first;
  const y = (v: number) =>
    (box.height - box.pad - (top > 0 ? (v / top) * (box.height - 2 * box.pad) : 0)).toFixed(1);
  if (span <= 0)
    return `M${box.pad},${y(points[0]!.value)} L${box.width - box.pad},${y(points[0]!.value)}`;
  const x = (at: number) => box.pad + ((at - first) / span) * (box.width - 2 * box.pad);
  const breaks = (i: number) => i === 0 || points[i]!.at - points[i - 1]!.at > 1.5 * stepMs;
  const half = (box.width - 2 * box.pad) / 200;
  return points
    .map((p, i) => {
      if (!breaks(i)) return `L${x(p.at).toFixed(1)},${y(p.value)}`;
      if (i + 1 < points.length && !breaks(i + 1)) return `M${x(p.at).toFixed(1)},${y(p.value)}`;
      // Alone: a stroke one hundredth of the width, kept inside the box.
      const from = Math.max(box.pad, x(p.at) - half);
      const to = Math.min(box.width - box.pad, x(p.at) + half);
      return `M${from.toFixed(1)},${y(p.value)} L${to.toFixed(1)},${y(p.value)}`;
    })
    .join(' ');
}
