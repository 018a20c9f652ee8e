import {
  newestFirst,
  timelineFromAudit,
  timelineFromConnection,
  timelineFromFeedback,
  timelineFromIdentity,
  timelineFromTelemetry,
  timelineFromTwinChange,
  type LiveEvent,
  type TimelineEntry,
  type TimelineKind,
} from '@twinscope/contract';
import { bodyText } from './telemetry-text.ts';

/** Each kind of entry as the timeline names it. */
export const KIND_LABELS: Record<TimelineKind, string> = {
  telemetry: 'Telemetry',
  twin: 'Twin changes',
  connection: 'Connections',
  lifecycle: 'Lifecycle',
  method: 'Direct methods',
  message: 'Messages',
  identity: 'Identity',
};

/** Entries a timeline keeps on screen; the oldest go first. */
export const TIMELINE_KEPT = 2000;

/**
 * A live event as a line of this device's timeline, or nothing when it is not about this
 * device or says nothing new: a twin write made in the console arrives as its activity
 * (with who made it), so its twin event is not shown again.
 */
export function entryOfLiveEvent(
  event: LiveEvent,
  deviceId: string,
  now: () => string = () => new Date().toISOString(),
): TimelineEntry | undefined {
  switch (event.type) {
    case 'telemetry':
      return event.deviceId === deviceId ? timelineFromTelemetry(event) : undefined;
    case 'connection':
      return event.deviceId === deviceId ? timelineFromConnection(event) : undefined;
    case 'identity':
      return event.deviceId === deviceId
        ? timelineFromIdentity(event, event.at ?? now())
        : undefined;
    case 'message-feedback':
      return event.deviceId === deviceId ? timelineFromFeedback(event) : undefined;
    case 'activity':
      return event.entry.target.deviceId === deviceId ? timelineFromAudit(event.entry) : undefined;
    case 'twin':
      if (event.deviceId !== deviceId || event.origin === 'console') return undefined;
      return timelineFromTwinChange({
        deviceId: event.deviceId,
        ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
        version: event.version,
        sections: event.sections,
        at: now(),
      });
    default:
      return undefined;
  }
}

/**
 * One list, newest first: a later copy of an entry replaces the earlier one (an activity's
 * outcome replaces its attempt), and a line heard live and read back shows once.
 */
export function mergeEntries(...lists: readonly (readonly TimelineEntry[])[]): TimelineEntry[] {
  const byId = new Map<string, TimelineEntry>();
  for (const list of lists)
    for (const entry of list) {
      const earlier = byId.get(entry.id);
      // A twin change heard live carries no patch or exact time; the read-back one does.
      byId.set(entry.id, earlier && earlier.detail && !entry.detail ? earlier : entry);
    }
  return [...byId.values()].sort(newestFirst).slice(0, TIMELINE_KEPT);
}

/** The entries of the chosen kinds that mention the text (title, who, module, body or change). */
export function visibleEntries(
  entries: readonly TimelineEntry[],
  kinds: ReadonlySet<TimelineKind>,
  text: string,
): TimelineEntry[] {
  const needle = text.trim().toLowerCase();
  return entries.filter(
    (entry) =>
      kinds.has(entry.kind) &&
      (needle === '' ||
        [
          entry.title,
          entry.by ?? '',
          entry.moduleId ?? '',
          JSON.stringify(entry.telemetry?.body ?? entry.detail ?? ''),
        ]
          .join('\n')
          .toLowerCase()
          .includes(needle)),
  );
}

/** How many entries there are of each kind, for the kind checkboxes. */
export function countByKind(entries: readonly TimelineEntry[]): Map<TimelineKind, number> {
  const byKind = new Map<TimelineKind, number>();
  for (const entry of entries) byKind.set(entry.kind, (byKind.get(entry.kind) ?? 0) + 1);
  return byKind;
}

/** What an entry's details show: a message's body, or what was recorded; nothing if empty. */
export function detailText(entry: TimelineEntry): string | undefined {
  if (entry.telemetry) return bodyText(entry.telemetry);
  if (entry.detail && Object.keys(entry.detail).length > 0)
    return JSON.stringify(entry.detail, null, 2);
  return undefined;
}
