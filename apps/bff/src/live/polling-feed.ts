import type { FeedStatus, Twin, TwinSectionName } from '@twinscope/contract';
import { twinKey } from '@twinscope/contract';
import { deepEqual, type JsonObject } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { twinFromHub } from '../adapters/twin-mapping.ts';
import type { Logger } from '../log.ts';
import { quote } from '../services/device-query.ts';
import type { EventBroker } from './broker.ts';
import { identityEvent, twinEvent } from './live-events.ts';

/** Where live twin changes come from. Order 5 adds an Event Hubs implementation. */
export interface ChangeFeed {
  status(): FeedStatus;
  /** A write made through this BFF: published at once. */
  twinWritten(twin: Twin, sections: TwinSectionName[]): void;
  identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string): void;
  start(): void;
  stop(): void;
}

const IDS_PER_QUERY = 100;

function sectionsChanged(before: Twin, after: Twin): TwinSectionName[] {
  const sections: TwinSectionName[] = [];
  if (!deepEqual(before.tags as JsonObject, after.tags as JsonObject)) sections.push('tags');
  if (!deepEqual(before.properties.desired as JsonObject, after.properties.desired as JsonObject))
    sections.push('desired');
  if (!deepEqual(before.properties.reported as JsonObject, after.properties.reported as JsonObject))
    sections.push('reported');
  return sections;
}

/**
 * Publishes this BFF's own writes at once and polls the hub for the twins open pages watch.
 * It never spends more than `queriesPerMinute` IoT Hub queries (an S1 unit has 20 a minute
 * for the whole hub), so with many watched twins each is checked less often.
 */
export class PollingFeed implements ChangeFeed {
  private readonly known = new Map<string, Twin>();
  private timer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private healthy = true;
  private message: string | undefined;
  private running = false;

  constructor(
    private readonly hub: HubAdapter,
    private readonly broker: () => EventBroker,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; queriesPerMinute: number },
  ) {
    this.tokens = Math.min(options.queriesPerMinute, 2);
  }

  status(): FeedStatus {
    return {
      source: 'polling',
      healthy: this.healthy,
      ...(this.message ? { message: this.message } : {}),
    };
  }

  twinWritten(twin: Twin, sections: TwinSectionName[]): void {
    this.known.set(twinKey(twin), twin);
    this.publishTwin(twin, sections, 'console');
  }

  identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string): void {
    this.broker().publish(identityEvent(change, deviceId, moduleId));
  }

  private publishTwin(twin: Twin, sections: TwinSectionName[], origin: 'console' | 'hub'): void {
    this.broker().publish(twinEvent(twin, sections, origin));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private takeToken(): boolean {
    const now = Date.now();
    const perMs = this.options.queriesPerMinute / 60_000;
    this.tokens = Math.min(
      this.options.queriesPerMinute,
      this.tokens + (now - this.lastRefill) * perMs,
    );
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private setHealth(healthy: boolean, message?: string): void {
    if (healthy === this.healthy && message === this.message) return;
    this.healthy = healthy;
    this.message = message;
    this.broker().publish({ type: 'feed', feed: this.status() });
  }

  /** One polling round over the next slice of watched twins; returns the queries it ran. */
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const watched = this.broker().watchedTwins();
      const watchedKeys = new Set(watched.map(twinKey));
      for (const key of this.known.keys()) if (!watchedKeys.has(key)) this.known.delete(key);
      if (watched.length === 0) return 0;
      const devices = watched.filter((t) => t.moduleId === undefined).map((t) => t.deviceId);
      const moduleRefs = watched.filter((t) => t.moduleId !== undefined);
      const batches: { sql: string; keys: Set<string> }[] = [];
      for (let i = 0; i < devices.length; i += IDS_PER_QUERY) {
        const ids = devices.slice(i, i + IDS_PER_QUERY);
        batches.push({
          sql: `SELECT * FROM devices WHERE deviceId IN [${ids.map(quote).join(',')}]`,
          keys: new Set(ids),
        });
      }
      for (let i = 0; i < moduleRefs.length; i += IDS_PER_QUERY) {
        const refs = moduleRefs.slice(i, i + IDS_PER_QUERY);
        const deviceIds = [...new Set(refs.map((r) => r.deviceId))];
        const moduleIds = [...new Set(refs.map((r) => r.moduleId!))];
        batches.push({
          sql: `SELECT * FROM devices.modules WHERE deviceId IN [${deviceIds.map(quote).join(',')}] AND moduleId IN [${moduleIds.map(quote).join(',')}]`,
          keys: new Set(refs.map(twinKey)),
        });
      }
      let ran = 0;
      for (let i = 0; i < batches.length; i++) {
        if (!this.takeToken()) break;
        const batch = batches[(this.cursor + i) % batches.length]!;
        ran++;
        await this.poll(batch);
      }
      this.cursor = (this.cursor + ran) % Math.max(1, batches.length);
      return ran;
    } catch (error) {
      const message = error instanceof Error ? error.message : 'polling failed';
      this.logger.warn('twin polling failed', { message });
      this.setHealth(false, message);
      return 0;
    } finally {
      this.running = false;
    }
  }

  private async poll(batch: { sql: string; keys: Set<string> }): Promise<void> {
    let continuation: string | undefined;
    do {
      const page = await this.hub.query(batch.sql, {
        pageSize: 1000,
        ...(continuation ? { continuation } : {}),
      });
      for (const raw of page.items) {
        const twin = twinFromHub(raw);
        const key = twinKey(twin);
        if (!batch.keys.has(key)) continue;
        const before = this.known.get(key);
        this.known.set(key, twin);
        if (!before) {
          // First sight: the tab loaded this twin moments ago, but may have missed a change
          // since; the page ignores it unless it is newer than what it holds.
          this.publishTwin(twin, [], 'hub');
          continue;
        }
        if (twin.version < before.version) continue;
        // Connection state and activity move without a twin version; they are live too.
        const presenceMoved =
          twin.connectionState !== before.connectionState ||
          twin.lastActivityTime !== before.lastActivityTime;
        if (twin.version === before.version && !presenceMoved) continue;
        this.publishTwin(twin, sectionsChanged(before, twin), 'hub');
      }
      continuation = page.continuation;
    } while (continuation);
    this.setHealth(true);
  }
}
