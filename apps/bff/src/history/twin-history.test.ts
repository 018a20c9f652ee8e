import { describe, expect, it } from 'vitest';
import type { Twin } from '@twinscope/contract';
import type { JsonObject } from '@twinscope/twin';
import type { RoutedChange } from '../adapters/event-hubs.ts';
import { openDatabase } from '../adapters/store/open-store.ts';
import type { Database } from '../adapters/store/sql.ts';
import { createLogger } from '../log.ts';
import { freshPgliteDir } from '../test/pglite-template.ts';
import { DATABASE_KINDS, useDatabaseServer } from '../test/postgres-server.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import type { HistorySource } from './catch-up.ts';
import { TwinHistory } from './twin-history.ts';

const logger = createLogger('error', () => undefined);

const change = (
  sequence: number,
  deviceId: string,
  version: number,
  extra: Partial<RoutedChange> = {},
): RoutedChange => ({
  position: { partition: 0, sequenceNumber: sequence },
  source: 'twinChangeEvents',
  opType: 'updateTwin',
  deviceId,
  version,
  enqueuedTime: Date.parse('2026-12-02T10:00:00Z') + sequence,
  sections: ['reported'],
  patch: { version, properties: { reported: { n: version } } },
  ...extra,
});

/** A hub whose twins are at the version given, counting whole-twin reads. */
function fakeHub(versions: Record<string, number>) {
  const reads: string[] = [];
  return {
    reads,
    async getTwin(deviceId: string): Promise<Twin> {
      reads.push(deviceId);
      return {
        deviceId,
        etag: 'e',
        version: versions[deviceId] ?? 1,
        tags: {},
        properties: { desired: {}, reported: {} },
      } as unknown as Twin;
    },
  };
}

/** An endpoint holding some events per partition, read back the way the SDK reads them. */
function fakeEndpoint(events: RoutedChange[], begin = 0): HistorySource & { reads: number } {
  const endpoint = {
    reads: 0,
    async partition() {
      const last = Math.max(begin - 1, ...events.map((e) => e.position.sequenceNumber));
      return { begin, last, isEmpty: events.length === 0, lastEnqueuedAt: Date.now() };
    },
    async read(
      _partition: number,
      start: { after: number } | { enqueuedOn: number },
      last: number,
      limit: number,
    ) {
      endpoint.reads++;
      const after = 'after' in start ? start.after : -1;
      const changes = events
        .filter((e) => e.position.sequenceNumber > after && e.position.sequenceNumber <= last)
        .filter((e) => e.position.sequenceNumber >= begin)
        .slice(0, limit);
      return { changes, complete: changes.at(-1)?.position.sequenceNumber === last };
    },
  };
  return endpoint;
}

/** A database that refuses everything while `down` is set, as one that went away would. */
function flaky(db: Database): Database & { down: boolean } {
  const state = { down: false };
  return new Proxy(db, {
    get(target, name, receiver) {
      if (name === 'down') return state.down;
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!['query', 'transaction'].includes(String(name))) return value.bind(target);
      return (...args: unknown[]) =>
        state.down
          ? Promise.reject(new Error('connect ECONNREFUSED'))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
    set(_target, name, value) {
      if (name !== 'down') return false;
      state.down = value as boolean;
      return true;
    },
  }) as Database & { down: boolean };
}

describe.each(DATABASE_KINDS)('twin history on $name', ({ postgres }) => {
  const { server, track } = useDatabaseServer(postgres);
  let n = 0;
  /** Two connections to one new database, as two replicas would hold. */
  const replicas = async (): Promise<[Database, Database]> => {
    if (postgres) {
      const url = await server().createDatabase(`h${++n}`);
      return [track((await openDatabase({ url })).db), track((await openDatabase({ url })).db)];
    }
    const db = track((await openDatabase({ dir: await freshPgliteDir() })).db);
    return [db, db];
  };

  const rows = async (db: Database, sql: string) => (await db.query(sql)).rows;

  it('when two replicas read the same events, then each is stored once and the new twin is read once for its first snapshot', async () => {
    const [a, b] = await replicas();
    const hub = fakeHub({ 'dev-1': 3 });
    const one = new TwinHistory(a, hub, logger, { snapshotReadsPerSecond: 100 });
    const two = new TwinHistory(b, hub, logger, { snapshotReadsPerSecond: 100 });
    const batch = [change(1, 'dev-1', 2), change(2, 'dev-1', 3)];
    one.accept(0, batch);
    two.accept(0, batch);
    await Promise.all([one.settled(), two.settled()]);
    await expect
      .poll(async () => rows(a, 'SELECT version, reason FROM twin_snapshots'))
      .toEqual([{ version: 3, reason: 'first-seen' }]);
    expect(
      await rows(a, 'SELECT source_sequence, version, patch FROM twin_changes ORDER BY 1'),
    ).toEqual([
      { source_sequence: 1, version: 2, patch: { version: 2, properties: { reported: { n: 2 } } } },
      { source_sequence: 2, version: 3, patch: { version: 3, properties: { reported: { n: 3 } } } },
    ]);
    expect(hub.reads.length).toBeGreaterThanOrEqual(1);
    expect(hub.reads.length).toBeLessThanOrEqual(2);
    one.stop();
    two.stop();
  });

  it('when versions follow each other, then nothing more is read; when they jump or a patch was too large to keep, then a gap snapshot is taken', async () => {
    const [db] = await replicas();
    const versions = { 'dev-2': 4 };
    const hub = fakeHub(versions);
    const history = new TwinHistory(db, hub, logger, { snapshotReadsPerSecond: 100 });
    history.accept(0, [change(10, 'dev-2', 4)]);
    await history.settled();
    await expect.poll(() => hub.reads.length).toBe(1);
    history.accept(0, [change(11, 'dev-2', 5), change(12, 'dev-2', 6)]);
    await history.settled();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hub.reads).toEqual(['dev-2']);
    // Versions 7 to 9 never came (merged, or lost while the BFF was down).
    versions['dev-2'] = 10;
    history.accept(0, [change(13, 'dev-2', 10)]);
    await history.settled();
    await expect.poll(() => hub.reads.length).toBe(2);
    const oversized = change(14, 'dev-2', 11, {
      patchDigest: { sha256: 'ab'.repeat(32), bytes: 70_000 },
    });
    delete oversized.patch;
    versions['dev-2'] = 11;
    history.accept(0, [oversized]);
    await history.settled();
    await expect.poll(() => hub.reads.length).toBe(3);
    expect(
      await rows(
        db,
        "SELECT patch, patch_digest FROM twin_changes WHERE device_id = 'dev-2' AND version = 11",
      ),
    ).toEqual([{ patch: null, patch_digest: { sha256: 'ab'.repeat(32), bytes: 70_000 } }]);
    // The third read's snapshot is stored a moment after the read itself.
    await expect
      .poll(async () =>
        (
          await rows(
            db,
            "SELECT reason FROM twin_snapshots WHERE device_id = 'dev-2' ORDER BY version",
          )
        ).map((r) => r['reason']),
      )
      .toEqual(['first-seen', 'gap', 'gap']);
    history.stop();
  });

  it('when a change comes while its twin is read for a snapshot, then a read older than that change is followed by another', async () => {
    const [db] = await replicas();
    const versions = { 'dev-r': 1 };
    const hub = fakeHub(versions);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = {
      reads: hub.reads,
      async getTwin(deviceId: string): Promise<Twin> {
        const twin = await hub.getTwin(deviceId);
        await held;
        return twin;
      },
    };
    const history = new TwinHistory(db, slow, logger, { snapshotReadsPerSecond: 100 });
    history.accept(0, [change(1, 'dev-r', 1)]);
    await expect.poll(() => hub.reads.length).toBe(1);
    // Versions 2 and 3 are stored while version 1 is still being read: one more read is owed.
    versions['dev-r'] = 3;
    history.accept(0, [change(2, 'dev-r', 2)]);
    history.accept(0, [change(3, 'dev-r', 3)]);
    await history.settled();
    release();
    await history.caughtUp();
    expect(hub.reads).toEqual(['dev-r', 'dev-r']);
    expect(
      await rows(db, "SELECT version FROM twin_snapshots WHERE device_id = 'dev-r' ORDER BY 1"),
    ).toEqual([{ version: 1 }, { version: 3 }]);
    history.stop();
  });

  it('when a twin has many versions, then the history checkpoints it every 200 versions from what it stores, reading nothing from the hub, and every version still rebuilds', async () => {
    const [db] = await replicas();
    const hub = fakeHub({ 'dev-k': 1 });
    const history = new TwinHistory(db, hub, logger, { snapshotReadsPerSecond: 100 });
    await history.record([change(100, 'dev-k', 1)]);
    await expect.poll(() => hub.reads.length).toBe(1);
    for (let from = 2; from <= 450; from += 100)
      await history.record(
        Array.from({ length: Math.min(100, 451 - from) }, (_, i) =>
          change(100 + from + i, 'dev-k', from + i),
        ),
      );
    expect(
      await rows(
        db,
        "SELECT version, reason FROM twin_snapshots WHERE device_id = 'dev-k' ORDER BY version",
      ),
    ).toEqual([
      { version: 1, reason: 'first-seen' },
      { version: 201, reason: 'checkpoint' },
      { version: 401, reason: 'checkpoint' },
    ]);
    expect(hub.reads).toEqual(['dev-k']);
    expect((await history.at({ deviceId: 'dev-k' }, 450)).reported).toEqual({ n: 450 });
    expect((await history.at({ deviceId: 'dev-k' }, 300)).reported).toEqual({ n: 300 });
    history.stop();
  });

  it('when events are not twin changes, then nothing is stored', async () => {
    const [db] = await replicas();
    const history = new TwinHistory(db, fakeHub({}), logger);
    history.accept(0, [
      change(20, 'dev-3', 2, { source: 'Telemetry' }),
      change(21, 'dev-3', 2, { source: 'deviceLifecycleEvents' }),
    ]);
    await history.settled();
    expect(await rows(db, 'SELECT count(*) AS n FROM twin_changes')).toEqual([{ n: 0 }]);
    history.stop();
  });

  it('when the fleet activity is asked for, then changes come newest first, filtered by device, section, source and key, a page at a time', async () => {
    const [db] = await replicas();
    const history = new TwinHistory(db, fakeHub({}), logger, { snapshotReadsPerSecond: 100 });
    const audit = new AuditTrail(db, logger);
    const record = await audit.begin({
      actor: { id: 'u-1', name: 'Ada Operator' },
      action: 'twin.patch',
      target: { deviceId: 'site-b-02' },
      change: { tags: { site: 'b' } },
    });
    await record.end({ result: 'succeeded', after: { version: 4 } });
    await history.record([
      change(30, 'site-a-01', 2),
      change(31, 'site-a-01', 2, {
        moduleId: 'thermostat',
        patch: { properties: { reported: { firmware: { version: '1.2' } } } },
      }),
      change(32, 'site-b-02', 3, {
        sections: ['desired'],
        patch: { properties: { desired: { firmware: { version: '2.0' } } } },
      }),
      change(33, 'site-b-02', 4, { sections: ['tags'], patch: { tags: { site: 'b' } } }),
      change(34, 'site-b-02', 5, { sections: ['tags'], patch: { tags: { site: null } } }),
    ]);
    const page = (query: Record<string, unknown>) =>
      history.activity({ limit: 50, ...query } as Parameters<TwinHistory['activity']>[0]);
    const all = await page({});
    expect(all.changes.map((c) => [c.deviceId, c.moduleId, c.version, c.source, c.by])).toEqual([
      ['site-b-02', undefined, 5, 'backend', 'another back end'],
      ['site-b-02', undefined, 4, 'twinscope', 'Ada Operator'],
      ['site-b-02', undefined, 3, 'backend', 'another back end'],
      ['site-a-01', 'thermostat', 2, 'module', 'the module'],
      ['site-a-01', undefined, 2, 'device', 'the device'],
    ]);
    // What the event says.
    expect(all.changes[0]!.changes).toEqual(['tags.site: removed']);
    expect(all.changes[2]!.changes).toEqual(['desired.firmware.version: "2.0"']);

    const versionsOf = (r: Awaited<ReturnType<typeof page>>) =>
      r.changes.map((c) => `${c.deviceId}${c.moduleId ? `/${c.moduleId}` : ''}@${c.version}`);
    expect(versionsOf(await page({ deviceId: 'site-a-01' }))).toEqual([
      'site-a-01/thermostat@2',
      'site-a-01@2',
    ]);
    expect(versionsOf(await page({ deviceId: 'site-a-01', moduleId: 'thermostat' }))).toEqual([
      'site-a-01/thermostat@2',
    ]);
    expect(versionsOf(await page({ section: 'tags' }))).toEqual(['site-b-02@5', 'site-b-02@4']);
    expect(versionsOf(await page({ source: 'twinscope' }))).toEqual(['site-b-02@4']);
    expect(versionsOf(await page({ source: 'device' }))).toEqual(['site-a-01@2']);
    expect(versionsOf(await page({ source: 'module' }))).toEqual(['site-a-01/thermostat@2']);
    expect(versionsOf(await page({ source: 'backend' }))).toEqual(['site-b-02@5', 'site-b-02@3']);
    // A key, in any section or in one; a removal counts as touching it.
    expect(versionsOf(await page({ key: 'firmware.version' }))).toEqual([
      'site-b-02@3',
      'site-a-01/thermostat@2',
    ]);
    expect(versionsOf(await page({ key: 'firmware', section: 'desired' }))).toEqual([
      'site-b-02@3',
    ]);
    expect(versionsOf(await page({ key: 'site' }))).toEqual(['site-b-02@5', 'site-b-02@4']);
    // Filter text is a parameter: SQL in it matches nothing and breaks nothing.
    expect((await page({ deviceId: "x' OR 1=1 --" })).changes).toEqual([]);
    expect((await page({ key: "a') OR true --" })).changes).toEqual([]);

    // Pages follow one another without repeats, across equal times.
    const first = await page({ limit: 2 });
    const second = await page({ limit: 2, before: first.next });
    const third = await page({ limit: 2, before: second.next });
    expect([...versionsOf(first), ...versionsOf(second), ...versionsOf(third)]).toEqual(
      versionsOf(all),
    );
    expect(third.next).toBeUndefined();
    history.stop();
    await audit.close();
  });

  it('when changes are older than the retention, then they are deleted and every version kept still rebuilds from a snapshot moved forward', async () => {
    const [db] = await replicas();
    const history = new TwinHistory(db, fakeHub({ 'dev-r': 1 }), logger, {
      snapshotReadsPerSecond: 100,
    });
    const old = Date.parse('2026-01-10T00:00:00Z');
    const recent = Date.parse('2026-11-30T00:00:00Z');
    const tagChange = (seq: number, version: number, tags: JsonObject, at: number) =>
      change(seq, 'dev-r', version, { sections: ['tags'], patch: { tags }, enqueuedTime: at });
    history.accept(0, [tagChange(40, 1, { a: 1 }, old)]);
    await history.settled();
    await expect
      .poll(async () => rows(db, "SELECT version FROM twin_snapshots WHERE device_id = 'dev-r'"))
      .toEqual([{ version: 1 }]);
    await history.record([
      tagChange(41, 2, { b: 2 }, old + 1),
      tagChange(42, 3, { a: null, c: 3 }, old + 2),
      tagChange(43, 4, { d: 4 }, recent),
      tagChange(44, 5, { b: null }, recent + 1),
    ]);
    const v5 = await history.at({ deviceId: 'dev-r' }, 5);
    const now = Date.parse('2026-12-02T00:00:00Z');

    expect(await history.prune(30, now)).toBe(3);
    expect(
      await rows(db, "SELECT version FROM twin_changes WHERE device_id = 'dev-r' ORDER BY 1"),
    ).toEqual([{ version: 4 }, { version: 5 }]);
    expect(
      await rows(db, "SELECT version, reason, twin FROM twin_snapshots WHERE device_id = 'dev-r'"),
    ).toEqual([
      {
        version: 3,
        reason: 'retention',
        twin: { tags: { b: 2, c: 3 }, properties: { desired: {}, reported: {} } },
      },
    ]);
    expect(await history.at({ deviceId: 'dev-r' }, 5)).toEqual(v5);
    expect(v5).toMatchObject({ tags: { c: 3, d: 4 } });
    await expect(history.at({ deviceId: 'dev-r' }, 2)).rejects.toThrow(/older than the first/);
    expect(await history.prune(30, now)).toBe(0);
    history.stop();
  });

  it('when the BFF was down, then on start it reads back from the endpoint what came meanwhile, and the versions have no gap', async () => {
    const [db] = await replicas();
    const events = [1, 2, 3, 4, 5, 6].map((seq) => change(seq, 'dev-c', seq + 1));
    const endpoint = fakeEndpoint(events);
    const options = { snapshotReadsPerSecond: 100, source: endpoint, positionFlushMs: 60_000 };
    const before = new TwinHistory(db, fakeHub({ 'dev-c': 3 }), logger, options);
    before.accept(0, events.slice(0, 2), 1, 2);
    await before.caughtUp();
    before.stop();
    expect(await rows(db, 'SELECT source_sequence FROM history_positions')).toEqual([
      { source_sequence: 2 },
    ]);
    // Events 3 to 5 came while no replica was reading; 6 is the first the new consumer sees.
    const after = new TwinHistory(db, fakeHub({ 'dev-c': 7 }), logger, options);
    after.accept(0, events.slice(5), 6, 6);
    await after.caughtUp();
    const { versions, gaps, catchingUp } = await after.versions(
      { deviceId: 'dev-c' },
      { limit: 10 },
    );
    expect(versions.map((v) => v.version)).toEqual([7, 6, 5, 4, 3, 2]);
    expect(gaps).toEqual([]);
    expect(catchingUp).toBeUndefined();
    expect(await rows(db, 'SELECT source_sequence FROM history_positions')).toEqual([
      { source_sequence: 6 },
    ]);
    after.stop();
  });

  it('when the database refuses a batch, then the history says it is behind, and reads the batch back from the endpoint once the database is back', async () => {
    const [raw] = await replicas();
    const db = flaky(raw);
    const events = [1, 2, 3, 4].map((seq) => change(seq, 'dev-f', seq + 1));
    const endpoint = fakeEndpoint(events);
    const history = new TwinHistory(db, fakeHub({ 'dev-f': 2 }), logger, {
      snapshotReadsPerSecond: 100,
      source: endpoint,
      // Long enough that the check below runs before the next attempt.
      catchUp: { retryMs: 1_000 },
      positionFlushMs: 60_000,
    });
    history.accept(0, events.slice(0, 1), 1, 1);
    await history.caughtUp();
    db.down = true;
    history.accept(0, events.slice(1, 3), 2, 3);
    await history.settled();
    expect(history.behind).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    db.down = false;
    const behind = await history.versions({ deviceId: 'dev-f' }, { limit: 10 });
    expect(behind.versions.map((v) => v.version)).toEqual([2]);
    expect(behind.catchingUp).toBe(2);
    history.accept(0, events.slice(3), 4, 4);
    await history.caughtUp();
    const { versions, gaps } = await history.versions({ deviceId: 'dev-f' }, { limit: 10 });
    expect(versions.map((v) => v.version)).toEqual([5, 4, 3, 2]);
    expect(gaps).toEqual([]);
    expect(history.behind).toBe(0);
    history.stop();
  });

  it('when what was missed has left the endpoint, then it stays a gap', async () => {
    const [db] = await replicas();
    const events = [1, 2, 3, 4, 5].map((seq) => change(seq, 'dev-g', seq + 1));
    const options = { snapshotReadsPerSecond: 100, positionFlushMs: 60_000 };
    const before = new TwinHistory(db, fakeHub({ 'dev-g': 2 }), logger, {
      ...options,
      source: fakeEndpoint(events),
    });
    before.accept(0, events.slice(0, 1), 1, 1);
    await before.caughtUp();
    before.stop();
    // The endpoint now keeps only from sequence 4 on: 2 and 3 are gone.
    const after = new TwinHistory(db, fakeHub({ 'dev-g': 6 }), logger, {
      ...options,
      source: fakeEndpoint(events, 4),
    });
    after.accept(0, events.slice(4), 5, 5);
    await after.caughtUp();
    const { versions, gaps } = await after.versions({ deviceId: 'dev-g' }, { limit: 10 });
    expect(versions.map((v) => v.version)).toEqual([6, 5, 2]);
    expect(gaps).toEqual([{ from: 3, to: 4 }]);
    after.stop();
  });
});
