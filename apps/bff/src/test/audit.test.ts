import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../audit/audit-trail.ts';
import { createLogger } from '../log.ts';
import { useStack } from './harness.ts';

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

  it('when a write is refused (stale etag) or reaches a module identity, then that is recorded too, without keys', async () => {
    const { twin } = (await stack.api(`/api/devices/${device}`)).body;
    await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { x: 1 } },
    });
    const stale = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { x: 2 } },
    });
    expect(stale.status).toBe(412);
    expect((await stack.api(`/api/devices/${device}/history`)).body.entries[0]).toMatchObject({
      result: 'refused',
      error: { code: 'conflict' },
      change: { tags: { x: 2 } },
    });

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
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.every((l) => typeof l.id === 'string' && typeof l.actor.name === 'string')).toBe(
      true,
    );
  });
});

describe('BFF audit trail durability', () => {
  const logger = createLogger('error', () => undefined);

  it('when the BFF died between the hub write and its outcome, then the attempt is still there, as unknown', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.jsonl');
    const trail = new AuditTrail(file, logger);
    const first = trail.begin({
      actor: { id: 'o', name: 'Oscar' },
      action: 'twin.patch',
      target: { deviceId: 'd1' },
      change: { tags: { a: 1 } },
    });
    first.end({ result: 'succeeded', after: { etag: 'e2' } });
    trail.begin({
      actor: { id: 'o', name: 'Oscar' },
      action: 'twin.patch',
      target: { deviceId: 'd1' },
      change: { tags: { a: 2 } },
    }); // no outcome: the process "died"
    trail.close();
    appendFileSync(file, '{"phase":"outcome","id":"torn'); // a line torn mid-append

    const reopened = new AuditTrail(file, logger);
    const entries = reopened.forTarget({ deviceId: 'd1' });
    expect(entries.map((e) => e.result)).toEqual(['unknown', 'succeeded']);
    expect(entries[1]!.after).toEqual({ etag: 'e2' });
    reopened.close();
  });
});

describe('BFF audit trail that cannot be written', () => {
  const stack = useStack();

  it('when the trail cannot be written, then the change is refused before the hub sees it', async () => {
    const { twin } = (await stack.api(`/api/devices/${device}`)).body;
    stack.bff.audit.close(); // as a full or failed disk would make appends fail
    const refused = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { unaudited: true } },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.message).toMatch(/audit trail cannot be written, so nothing was changed/);
    expect((await stack.registry.getTwin(device)).responseBody.etag).toBe(twin.etag);
  });
});
