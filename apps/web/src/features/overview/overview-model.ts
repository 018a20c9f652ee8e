import type { OverviewBar } from '@twinscope/contract';

/** The device list filtered to what a bar counts, or nothing when it is not a list of devices. */
export function listPath(bar: OverviewBar): string | undefined {
  if (bar.where === undefined) return undefined;
  return `/devices?${new URLSearchParams({ where: bar.where }).toString()}`;
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

/** "12 devices", "1 device". */
export function devices(count: number): string {
  return `${count} device${count === 1 ? '' : 's'}`;
}

/** Keys as typed: comma- or space-separated dotted paths, without `properties.desired.`. */
export function keysFromText(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((k) => k.trim().replace(/^properties\.desired\./, ''))
    .filter(Boolean);
}
