import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../audit/audit-trail.ts';
import { createLogger } from '../log.ts';
import { useStack } from './harness.ts';
import { freshDatabaseDir } from './embedded-database.ts';
import { openDatabase } from '../adapters/store/open-store.ts';

const device = 'berlin-b1-meter-03';

describe('BFF audit trail: who changed what, history per twin, revert, export', () => {
  const stack = useStack();

  it('when an operator changes a twin and then reverts it, then both are recorded and the twin is back as it was', async () => {
    const { twin } = (await stack.api(`/api/devices/${device}`)).body;
    const patch = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { site: 'paris', audited: true }, desired: { interval: 99 } },
    });
    expect(patch.status).toBe(200);

    const history = (await stack.api(`/api/devices/${device}/history`)).body.entries;
    const entry = history[0];
    expect(entry).toMatchObject({
      actor: { id: 'local', name: 'Local operator' },
      action: 'twin.patch',
      target: { deviceId: device },
      change: { tags: { site: 'paris', audited: true }, desired: { interval: 99 } },
      before: { etag: twin.etag, version: twin.version },
      after: { etag: patch.body.twin.etag, version: patch.body.twin.version },
      result: 'succeeded',
      // What undoes it: the old values back, the added key removed.
      revert: {
        tags: { site: twin.tags.site, audited: null },
        desired: { interval: twin.properties.desired.interval ?? null },
      },
    });
    expect(entry.after.desiredVersion).toBe(entry.before.desiredVersion + 1);

    // Revert = a new patch with the current etag, linked to the entry.
    const revert = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: patch.body.twin.etag, ...entry.revert, revertOf: entry.id },
    });
    expect(revert.status).toBe(200);
    const hub = (await stack.registry.getTwin(device)).responseBody;
    expect(hub.tags).toEqual(twin.tags);
    expect(hub.properties.desired.interval).toEqual(twin.properties.desired.interval);
    const after = (await stack.api(`/api/devices/${device}/history`)).body.entries;
    expect(after[0]).toMatchObject({ revertOf: entry.id, result: 'succeeded' });
  });

  it('when a write reaches a module identity, then that is recorded too, without keys', async () => {
    const created = await stack.api(`/api/devices/${device}/modules`, {
      method: 'POST',
      json: { moduleId: 'audited-module' },
    });
    expect(created.status).toBe(201);
    await stack.api(`/api/devices/${device}/modules/audited-module/connection-string`, {
      method: 'POST',
    });
    const moduleHistory = (await stack.api(`/api/devices/${device}/modules/audited-module/history`))
      .body.entries;
    expect(moduleHistory.map((e: any) => e.action)).toEqual([
      'module.reveal-connection-string',
      'module.create',
    ]);
    expect(JSON.stringify(moduleHistory)).not.toMatch(/SharedAccessKey|primaryKey/);

    const exported = await stack.api('/api/audit/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = exported.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Oldest first, each with its outcome, the module's two records among them.
    expect(lines.map((l) => l.id)).toEqual(
      expect.arrayContaining(moduleHistory.map((e: any) => e.id)),
    );
    expect(lines.slice(-2).map((l) => l.action)).toEqual([
      'module.create',
      'module.reveal-connection-string',
    ]);
    expect(lines.every((l) => l.result === 'succeeded')).toBe(true);
    expect(lines.every((l) => typeof l.id === 'string' && typeof l.actor.name === 'string')).toBe(
      true,
    );
  });
});

describe('BFF audit trail under hostile or heavy writes', () => {
  const stack = useStack();
  const twinOf = async (id: string) => (await stack.api(`/api/devices/${id}`)).body.twin;
  const auditRows = async () =>
    (await stack.bff.db.query<{ n: number }>('SELECT count(*) AS n FROM audit_entries')).rows[0]!.n;

  it('when 150 writes of 200 KB carry a stale etag, then all are 412 and the trail does not grow', async () => {
    const stale = (await twinOf(device)).etag;
    await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: stale, tags: { moved: Date.now() } },
    });
    const rowsBefore = await auditRows();
    const big = { etag: stale, desired: { blob: 'x'.repeat(200 * 1024) } };
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          stack.api(`/api/devices/${device}/twin`, { method: 'PATCH', json: big }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(412));
    }
    expect(await auditRows()).toBe(rowsBefore);
  });

  it('when a patch nests 3,000 deep or holds 120,000 items, then 400 (never 500 or 503) and nothing is recorded', async () => {
    const { etag } = await twinOf(device);
    const rowsBefore = await auditRows();
    const deep = `{"etag":"${etag}","desired":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`;
    const nested = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      body: deep,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(nested.status).toBe(400);
    expect(nested.body.message).toMatch(/deeper than 32 levels/);
    const wide = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag, desired: { items: Array.from({ length: 120_000 }, () => 1) } },
    });
    expect(wide.status).toBe(400);
    expect(wide.body.code).toBe('twin_rule_violation');
    expect(await auditRows()).toBe(rowsBefore);
    expect((await twinOf(device)).etag).toBe(etag);
  });

  it('when a valid change is larger than 32 KB as JSON, then its record keeps its size and digest', async () => {
    const id = `audit-big-${Date.now()}`;
    await stack.registry.create({ deviceId: id });
    const desired = Object.fromEntries(
      Array.from({ length: 2400 }, (_, i) => [`k${String(i).padStart(4, '0')}`, 'xxxxxxxx']),
    );
    const { etag } = await twinOf(id);
    const saved = await stack.api(`/api/devices/${id}/twin`, {
      method: 'PATCH',
      json: { etag, desired },
    });
    expect(saved.status).toBe(200);
    const [entry] = (await stack.api(`/api/devices/${id}/history`)).body.entries;
    const text = JSON.stringify({ desired });
    expect(entry).toMatchObject({
      result: 'succeeded',
      change: {},
      changeDigest: {
        bytes: Buffer.byteLength(text),
        sha256: createHash('sha256').update(text).digest('hex'),
      },
    });
    // Undoing it deletes 2,400 keys: small enough to keep, so it can still be reverted.
    expect(Object.keys(entry.revert.desired)).toHaveLength(2400);
  });

  it('when a twin has a long history, then it comes a page at a time, newest first, without overlap', async () => {
    const id = `audit-paged-${Date.now()}`;
    await stack.registry.create({ deviceId: id });
    for (let i = 1; i <= 25; i++) {
      const { etag } = await twinOf(id);
      await stack.api(`/api/devices/${id}/twin`, { method: 'PATCH', json: { etag, tags: { i } } });
    }
    const first = (await stack.api(`/api/devices/${id}/history?limit=20`)).body;
    expect(first.entries.map((e: any) => e.change.tags.i)).toEqual(
      Array.from({ length: 20 }, (_, k) => 25 - k),
    );
    expect(first.next).toMatch(/^\d+$/);
    const second = (await stack.api(`/api/devices/${id}/history?limit=20&before=${first.next}`))
      .body;
    expect(second.entries.map((e: any) => e.change.tags.i)).toEqual([5, 4, 3, 2, 1]);
    expect(second.next).toBeUndefined();
    expect((await stack.api(`/api/devices/${id}/history?limit=500`)).status).toBe(400);
    expect((await stack.api(`/api/devices/${id}/history?before=abc`)).status).toBe(400);
  });
});

describe('BFF audit trail durability', () => {
  const logger = createLogger('error', () => undefined);
  const start = (tags: Record<string, number>) => ({
    actor: { id: 'o', name: 'Oscar' },
    action: 'twin.patch' as const,
    target: { deviceId: 'd1' },
    change: { tags },
  });

  it('when the BFF died between the hub write and its outcome, then the attempt is still there, as unknown', async () => {
    const dir = freshDatabaseDir();
    const { db } = await openDatabase({ dir });
    const trail = new AuditTrail(db, logger);
    const first = await trail.begin(start({ a: 1 }));
    await first.end({ result: 'succeeded', after: { etag: 'e2' } });
    await trail.begin(start({ a: 2 })); // no outcome: the process "died"
    await db.close();

    const reopened = await openDatabase({ dir });
    const { entries } = await new AuditTrail(reopened.db, logger).forTarget({ deviceId: 'd1' });
    expect(entries.map((e) => e.result)).toEqual(['unknown', 'succeeded']);
    expect(entries[1]!.after).toEqual({ etag: 'e2' });
    await reopened.db.close();
  });

  it("when an earlier version's JSON-lines trail is there, then it is imported once, torn last line and unfinished attempts included", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.jsonl');
    const attempt = (id: string, at: string, tags: Record<string, number>) =>
      JSON.stringify({ phase: 'attempt', id, at, ...start(tags) });
    appendFileSync(
      file,
      [
        attempt('8a4f1f7e-4f60-4c38-9f52-36c6e1f2a001', '2026-11-30T10:00:00.000Z', { a: 1 }),
        JSON.stringify({
          phase: 'outcome',
          id: '8a4f1f7e-4f60-4c38-9f52-36c6e1f2a001',
          at: '2026-11-30T10:00:01.000Z',
          result: 'succeeded',
          after: { etag: 'e2' },
        }),
        attempt('8a4f1f7e-4f60-4c38-9f52-36c6e1f2a002', '2026-11-30T11:00:00.000Z', { a: 2 }),
        '{"phase":"outcome","id":"torn',
      ].join('\n'),
    );
    const dir = freshDatabaseDir();
    const { db } = await openDatabase({ dir });
    const trail = new AuditTrail(db, logger);
    expect(await trail.importFile(file)).toBe(2);
    expect(await trail.importFile(file)).toBeUndefined();
    const { entries } = await trail.forTarget({ deviceId: 'd1' });
    expect(entries.map((e) => [e.at, e.result, e.finishedAt])).toEqual([
      ['2026-11-30T11:00:00.000Z', 'unknown', undefined],
      ['2026-11-30T10:00:00.000Z', 'succeeded', '2026-11-30T10:00:01.000Z'],
    ]);
    // Retention: records older than it are deleted, newer ones stay.
    await trail.begin(start({ a: 3 }));
    expect(await trail.prune(1)).toBe(2);
    expect((await trail.forTarget({ deviceId: 'd1' })).entries).toHaveLength(1);
    await db.close();
  });
});

describe('BFF audit trail that cannot be written', () => {
  const stack = useStack();

  it('when the trail cannot be written, then the change is refused before the hub sees it', async () => {
    const { twin } = (await stack.api(`/api/devices/${device}`)).body;
    await stack.bff.audit.close(); // as a database that is down or full refuses writes
    const refused = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { unaudited: true } },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('database_unavailable');
    expect(refused.body.message).toMatch(
      /audit trail cannot be written \(the team's database is unavailable\), so nothing was changed/,
    );
    expect((await stack.registry.getTwin(device)).responseBody.etag).toBe(twin.etag);
  });
});
