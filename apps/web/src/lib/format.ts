const NEVER = '0001-01-01T00:00:00Z';

/** "3 min ago", or "never" for IoT Hub's zero time. */
export function relativeTime(iso: string | undefined, now = Date.now()): string {
  if (!iso || iso.startsWith('0001-01-01')) return 'never';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(then).toLocaleDateString();
}

export function isNever(iso: string | undefined): boolean {
  return !iso || iso === NEVER || iso.startsWith('0001-01-01');
}

/** A moment as a `datetime-local` input shows it: local time, to the minute. */
export function toLocalInput(at: string | number): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** What a `datetime-local` input holds, as ISO 8601; nothing when it is empty or not a time. */
export function fromLocalInput(local: string): string | undefined {
  const at = new Date(local);
  return local && !Number.isNaN(at.getTime()) ? at.toISOString() : undefined;
}

const UNITS = ['KB', 'MB', 'GB', 'TB'];

/** A size as people read it: "512 bytes", "1.5 KB", "12 MB" (units of 1,024). */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  // 1023.96 KB rounds to 1,024: say 1 MB instead.
  if (shown >= 1024 && unit < UNITS.length - 1) return `1 ${UNITS[unit + 1]}`;
  return `${shown} ${UNITS[unit]}`;
}
