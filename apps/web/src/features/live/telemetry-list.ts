import type { TelemetryEvent, TwinRef } from '@twinscope/contract';
import { bodyText } from './telemetry-text.ts';

/** Messages kept on screen; older ones scroll away (export first to keep them). */
export const KEPT = 500;

/** Messages of one device or module kept for its plot (the list shows the newest KEPT). */
export const PLOTTED = 10_000;

/**
 * Whether a message matches the viewer's filter: the text in its body, its module, or a
 * property written `name=value` (application or system), case aside. No filter matches all.
 */
export function matches(event: TelemetryEvent, filter: string): boolean {
  if (!filter) return true;
  const needle = filter.toLowerCase();
  const haystack = [
    bodyText(event),
    event.moduleId ?? '',
    ...Object.entries(event.properties).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(event.system).map(([k, v]) => `${k}=${v}`),
  ]
    .join('\n')
    .toLowerCase();
  return haystack.includes(needle);
}

/** Newest first, each message once (by its place in the endpoint), at most `limit`. */
export function byEnqueued(limit: number, ...lists: TelemetryEvent[][]): TelemetryEvent[] {
  const seen = new Map<string, TelemetryEvent>();
  for (const list of lists) for (const event of list) seen.set(event.position, event);
  return [...seen.values()]
    .sort((a, b) => (a.enqueuedTime < b.enqueuedTime ? 1 : -1))
    .slice(0, limit);
}

/** The exported file's name: the device or module shown, or the devices a filter follows. */
export function exportName(target: TwinRef | undefined): string {
  if (!target) return 'telemetry-devices';
  return `telemetry-${target.moduleId ? `${target.deviceId}-${target.moduleId}` : target.deviceId}`;
}
