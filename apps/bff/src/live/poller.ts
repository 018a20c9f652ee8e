import { twinKey, type Twin, type TwinRef, type TwinSectionName } from '@twinscope/contract';
import { deepEqual } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { twinFromHub } from '../adapters/twin-mapping.ts';
import { quote } from '../core/hub-query.ts';

const IDS_PER_QUERY = 100;

function sectionsChanged(before: Twin, after: Twin): TwinSectionName[] {
  const sections: TwinSectionName[] = [];
  if (!deepEqual(before.tags, after.tags)) sections.push('tags');
  if (!deepEqual(before.properties.desired, after.properties.desired)) sections.push('desired');
  if (!deepEqual(before.properties.reported, after.properties.reported)) sections.push('reported');
  return sections;
}

/** A watched twin as the poller found it, and which sections moved since it last looked. */
export interface Observation {
  twin: Twin;
  sections: TwinSectionName[];
}

export interface PollRound {
  /** IoT Hub queries this round spent. */
  queries: number;
  observations: Observation[];
  /** Why the round failed (the hub refused or did not answer); none: it succeeded or did nothing. */
  error?: string;
}

/**
 * Polls the hub for the twins open pages watch, one event source of the live hub. It never
 * spends more than `queriesPerMinute` IoT Hub queries (an S1 unit has 20 a minute for the
 * whole hub), so with many watched twins each is checked less often. It publishes nothing:
 * each round returns what it saw to whoever runs it.
 */
export class Poller {
  private readonly known = new Map<string, Twin>();
  private cursor = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private running = false;

  constructor(
    private readonly hub: HubAdapter,
    private readonly options: { queriesPerMinute: number },
  ) {
    this.tokens = Math.min(options.queriesPerMinute, 2);
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

  /** A twin this BFF just wrote: it is not news when the next round finds it. */
  saw(twin: Twin): void {
    const key = twinKey(twin);
    const before = this.known.get(key);
    if (!before || before.version <= twin.version) this.known.set(key, twin);
  }

  /** One polling round over the next slice of the watched twins. */
  async round(watched: TwinRef[]): Promise<PollRound> {
    const observations: Observation[] = [];
    if (this.running) return { queries: 0, observations };
    this.running = true;
    let ran = 0;
    try {
      const watchedKeys = new Set(watched.map(twinKey));
      for (const key of this.known.keys()) if (!watchedKeys.has(key)) this.known.delete(key);
      if (watched.length === 0) return { queries: 0, observations };
      const batches = batchesOf(watched);
      for (let i = 0; i < batches.length; i++) {
        if (!this.takeToken()) break;
        const batch = batches[(this.cursor + i) % batches.length]!;
        ran++;
        await this.poll(batch, observations);
      }
      this.cursor = (this.cursor + ran) % Math.max(1, batches.length);
      return { queries: ran, observations };
    } catch (error) {
      const message = error instanceof Error ? error.message : 'polling failed';
      return { queries: ran, observations, error: message };
    } finally {
      this.running = false;
    }
  }

  private async poll(
    batch: { sql: string; keys: Set<string> },
    observations: Observation[],
  ): Promise<void> {
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
          observations.push({ twin, sections: [] });
          continue;
        }
        if (twin.version < before.version) {
          this.known.set(key, before);
          continue;
        }
        // Connection state and activity move without a twin version; they are live too.
        const presenceMoved =
          twin.connectionState !== before.connectionState ||
          twin.lastActivityTime !== before.lastActivityTime;
        if (twin.version === before.version && !presenceMoved) continue;
        observations.push({ twin, sections: sectionsChanged(before, twin) });
      }
      continuation = page.continuation;
    } while (continuation);
  }
}

/** The watched twins as queries of at most 100 ids each (devices, then modules). */
function batchesOf(watched: TwinRef[]): { sql: string; keys: Set<string> }[] {
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
  return batches;
}
