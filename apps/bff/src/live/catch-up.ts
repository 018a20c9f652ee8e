import { twinKey, type IdentityEvent, type LiveEvent, type Twin } from '@twinscope/contract';
import type { EventSource, RoutedChange } from '../adapters/event-hubs.ts';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Gap, ResumeSource } from './broker.ts';
import { encodeCursor } from './cursor.ts';
import { identityEvent, twinEvent } from './live-events.ts';

/** A resuming tab is caught up from the source with at most this many events … */
const CATCH_UP_EVENTS = 20_000;
/** … and this many twin reads; beyond that it is told to refetch instead. */
const CATCH_UP_TWINS = 200;

/** A lifecycle event as the console's identity event. */
export const identityOf = (change: RoutedChange): IdentityEvent =>
  identityEvent(
    change.opType.startsWith('delete') ? 'deleted' : 'created',
    change.deviceId,
    change.moduleId,
    change.enqueuedTime,
  );

/**
 * What a resuming tab missed, read back from the event source (after a restart, or from
 * another replica). The live hub records from which position on this process has published
 * everything (`cover`); the broker asks for the rest. It reads; it publishes nothing.
 */
export class CatchUp implements ResumeSource {
  private partitions = 0;
  private readonly covered = new Map<number, number>();

  constructor(
    private readonly source: EventSource,
    private readonly hub: HubAdapter,
  ) {}

  get partitionCount(): number {
    return this.partitions;
  }

  setPartitionCount(count: number): void {
    this.partitions = count;
  }

  /** Everything this process publishes from `partition` after `after` reaches the broker. */
  cover(partition: number, after: number): void {
    if (!this.covered.has(partition)) this.covered.set(partition, after);
  }

  isCovered(partition: number): boolean {
    return this.covered.has(partition);
  }

  coveredAfter(partition: number): number | undefined {
    return this.covered.get(partition);
  }

  async catchUp(
    gaps: Gap[],
    from: number[],
  ): Promise<{ entries: { event: LiveEvent; id: string }[]; complete: boolean }> {
    let complete = true;
    const changes: RoutedChange[] = [];
    for (const gap of gaps) {
      const partition = await this.source.partition(gap.partition);
      const last = gap.upTo ?? partition.last;
      if (partition.isEmpty || last <= gap.after) continue;
      // Past retention: those changes are gone; the tab must refetch.
      if (gap.after < partition.begin - 1) complete = false;
      const read = await this.source.read(
        gap.partition,
        { after: Math.max(gap.after, partition.begin - 1) },
        last,
        CATCH_UP_EVENTS,
      );
      if (!read.complete) complete = false;
      changes.push(...read.changes);
    }
    const twinChanges = new Map<string, RoutedChange>();
    for (const change of changes)
      if (change.source === 'twinChangeEvents') twinChanges.set(twinKey(change), change);
    if (twinChanges.size > CATCH_UP_TWINS) return { entries: [], complete: false };
    const twins = new Map<string, Twin>();
    await Promise.all(
      [...twinChanges.entries()].map(async ([key, change]) => {
        try {
          twins.set(key, await this.hub.getTwin(change.deviceId, change.moduleId));
        } catch {
          complete = false;
        }
      }),
    );
    const cursor = [...from];
    const entries: { event: LiveEvent; id: string }[] = [];
    for (const change of changes) {
      cursor[change.position.partition] = change.position.sequenceNumber;
      if (change.source === 'deviceLifecycleEvents') {
        entries.push({ id: encodeCursor(cursor), event: identityOf(change) });
      } else if (
        change.source === 'twinChangeEvents' &&
        twinChanges.get(twinKey(change)) === change
      ) {
        const twin = twins.get(twinKey(change));
        if (!twin) continue;
        entries.push({ id: encodeCursor(cursor), event: twinEvent(twin, change.sections, 'hub') });
      }
    }
    return { entries, complete };
  }
}
