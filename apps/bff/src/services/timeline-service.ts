import {
  TIMELINE_KINDS,
  TIMELINE_MAX_DAYS,
  newestFirst,
  timelineFromAudit,
  timelineFromConnection,
  timelineFromFeedback,
  timelineFromIdentity,
  timelineFromTelemetry,
  timelineFromTwinChange,
  twinKey,
  type MessageFeedbackEvent,
  type TimelineEntry,
  type TimelineKind,
  type TimelineQuery,
  type TimelineResponse,
} from '@twinscope/contract';
import type { EventSource, RoutedChange } from '../adapters/event-hubs.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import { identityOf } from '../live/catch-up.ts';
import { connectionEvent } from '../live/live-events.ts';
import { telemetryEvent } from '../live/telemetry.ts';

/** A timeline holds at most this many entries (newest kept) … */
export const TIMELINE_MAX_ENTRIES = 1000;
/** … and reads at most this many events from the endpoint, across its partitions. */
const MAX_SCANNED = 20_000;
/**
 * Reading the endpoint back costs it, so read-backs are shared out: one at a time per person
 * (a second tab of theirs waits its turn instead of taking someone else's), and this many at
 * once per process, across everyone.
 */
const READS_PER_PERSON = 1;
const MAX_CONCURRENT_READS = 4;

const HOUR_MS = 60 * 60 * 1000;
const fromEndpoint: TimelineKind[] = ['telemetry', 'twin', 'connection', 'lifecycle'];

const iso = (ms: number | undefined) => new Date(ms ?? Date.now()).toISOString();

/**
 * One device's timeline: what the hub's Event Hubs-compatible endpoint still holds for it
 * (telemetry, twin changes, lifecycle and connection events) and what was done to it from
 * Twinscope (the audit trail: twin writes with who, methods, messages, identity changes).
 * The page adds what happens next from its live stream; the ids match, so nothing shows twice.
 */
export class TimelineService {
  private reading = 0;
  private readonly readingBy = new Map<string, number>();

  constructor(
    private readonly audit: AuditTrail,
    private readonly source: EventSource | undefined,
    private readonly feedbackFor: (
      deviceId: string,
      messageId: string,
    ) => MessageFeedbackEvent | undefined,
  ) {}

  /** `reader` is who asks (their user id): read-backs are shared out per person. */
  async read(
    deviceId: string,
    query: TimelineQuery,
    reader: string,
    now = Date.now(),
  ): Promise<TimelineResponse> {
    const since = query.since ? Date.parse(query.since) : now - HOUR_MS;
    if (since < now - TIMELINE_MAX_DAYS * 24 * HOUR_MS)
      throw new AppError(
        'validation_failed',
        `A timeline reaches back at most ${TIMELINE_MAX_DAYS} days, the longest an IoT Hub endpoint keeps events.`,
      );
    if (since > now + 60_000)
      throw new AppError('validation_failed', 'since is in the future; give a time before now.');
    const kinds = new Set<TimelineKind>(query.kinds?.length ? query.kinds : TIMELINE_KINDS);
    const wanted = (entry: TimelineEntry) =>
      kinds.has(entry.kind) && (query.moduleId === undefined || entry.moduleId === query.moduleId);
    const notes: string[] = [];
    let complete = true;

    const audited = await this.audit.forDevice(deviceId, iso(since), TIMELINE_MAX_ENTRIES);
    const entries: TimelineEntry[] = [];
    /** Twin versions Twinscope wrote (the hub's event for them says less: who is in here). */
    const written = new Set<string>();
    for (const record of audited) {
      const entry = timelineFromAudit(record);
      if (record.action.startsWith('twin.') && record.after?.version !== undefined)
        written.add(`${twinKey(record.target)}:${record.after.version}`);
      if (wanted(entry)) entries.push(entry);
      if (record.action === 'message.send' && typeof record.change['messageId'] === 'string') {
        const feedback = this.feedbackFor(deviceId, record.change['messageId']);
        if (feedback) {
          const feedbackEntry = timelineFromFeedback(feedback);
          if (wanted(feedbackEntry)) entries.push(feedbackEntry);
        }
      }
    }
    if (audited.length >= TIMELINE_MAX_ENTRIES) complete = false;

    if (fromEndpoint.some((kind) => kinds.has(kind))) {
      if (!this.source) {
        notes.push(
          "The hub's Event Hubs-compatible endpoint is not configured (TWINSCOPE_EVENTS_*), so telemetry, connection events and changes made outside Twinscope are not shown.",
        );
      } else {
        const read = await this.readEndpoint(deviceId, since, written, reader);
        if (!read.complete) complete = false;
        notes.push(...read.notes);
        entries.push(...read.entries.filter(wanted));
      }
    }
    entries.sort(newestFirst);
    if (entries.length > TIMELINE_MAX_ENTRIES) {
      complete = false;
      entries.length = TIMELINE_MAX_ENTRIES;
    }
    return { entries, since: iso(since), complete, notes };
  }

  private async readEndpoint(
    deviceId: string,
    since: number,
    written: Set<string>,
    reader: string,
  ): Promise<{ entries: TimelineEntry[]; complete: boolean; notes: string[] }> {
    const source = this.source!;
    const own = this.readingBy.get(reader) ?? 0;
    if (own >= READS_PER_PERSON)
      throw new AppError(
        'throttled',
        "Another timeline of yours is being read back from the hub's endpoint; this one can be read once it ends, in a few seconds.",
        { retryAfterSeconds: 5 },
      );
    if (this.reading >= MAX_CONCURRENT_READS)
      throw new AppError(
        'throttled',
        `${MAX_CONCURRENT_READS} timelines are being read back from the hub's endpoint for other people right now; try again in a few seconds.`,
        { retryAfterSeconds: 5 },
      );
    this.reading++;
    this.readingBy.set(reader, own + 1);
    try {
      const count = await source.partitionCount();
      const perPartition = Math.floor(MAX_SCANNED / Math.max(1, count));
      const reads = await Promise.all(
        Array.from({ length: count }, async (_, partition) => {
          const info = await source.partition(partition);
          // Nothing enqueued since then: a read would only wait for events that never come.
          if (info.isEmpty || info.lastEnqueuedAt < since)
            return { changes: [] as RoutedChange[], complete: true };
          return source.read(partition, { enqueuedOn: since }, info.last, perPartition);
        }),
      );
      const entries: TimelineEntry[] = [];
      let complete = true;
      for (const read of reads) {
        if (!read.complete) complete = false;
        for (const change of read.changes)
          if (change.deviceId === deviceId) {
            const entry = this.entryOf(change, written);
            if (entry) entries.push(entry);
          }
      }
      return {
        entries,
        complete,
        notes: complete
          ? []
          : [
              `The endpoint holds more since then than one timeline reads (${MAX_SCANNED.toLocaleString('en')} events across the hub); the oldest are not shown. Choose a later start.`,
            ],
      };
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError(
        'hub_unreachable',
        "The hub's Event Hubs-compatible endpoint could not be read; try again shortly.",
        { cause: error },
      );
    } finally {
      this.reading--;
      const left = (this.readingBy.get(reader) ?? 1) - 1;
      if (left > 0) this.readingBy.set(reader, left);
      else this.readingBy.delete(reader);
    }
  }

  private entryOf(change: RoutedChange, written: Set<string>): TimelineEntry | undefined {
    switch (change.source) {
      case 'Telemetry': {
        const event = telemetryEvent(change);
        return event ? timelineFromTelemetry(event) : undefined;
      }
      case 'twinChangeEvents':
        // Twinscope's own write is already there, with who made it.
        if (change.version === undefined || written.has(`${twinKey(change)}:${change.version}`))
          return undefined;
        return timelineFromTwinChange({
          deviceId: change.deviceId,
          ...(change.moduleId !== undefined ? { moduleId: change.moduleId } : {}),
          version: change.version,
          sections: change.sections,
          at: iso(change.enqueuedTime),
          // The timeline shows a change's detail up to 8 KB; the history keeps all of it.
          ...(change.patch && JSON.stringify(change.patch).length <= 8 * 1024
            ? { patch: change.patch }
            : {}),
        });
      case 'deviceLifecycleEvents':
        return timelineFromIdentity(identityOf(change), iso(change.enqueuedTime));
      case 'deviceConnectionStateEvents': {
        const event = connectionEvent(
          change.opType,
          change.deviceId,
          change.moduleId,
          change.enqueuedTime,
        );
        return event ? timelineFromConnection(event) : undefined;
      }
      default:
        return undefined;
    }
  }
}
