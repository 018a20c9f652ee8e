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
