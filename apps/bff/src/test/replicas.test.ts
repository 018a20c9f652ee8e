import { describe, expect, it } from 'vitest';
import { testPlan } from './fixtures/rollout-plan.ts';
import { openStream } from './harness.ts';
import { useTwoReplicas } from './two-replicas.ts';
import { hasPostgres } from './postgres-server.ts';

if (!hasPostgres && process.env['CI'])
  throw new Error('CI needs PostgreSQL for the replica tests (npm test installs it as root).');

describe.skipIf(!hasPostgres)('two BFF replicas on one PostgreSQL', () => {
  const { stack, replicaB, database } = useTwoReplicas();

  const onB = async (path: string) => {
    const response = await fetch(`${replicaB().url}${path}`);
    return { status: response.status, body: (await response.json()) as any };
  };
  const device = 'lyon-north-meter-08';
  /** A tab on replica B: its live stream, watching what `watch` says once the BFF confirms. */
  const tabOnB = async (watch: object) => {
    const stream = await openStream(`${replicaB().url}/api/events`);
    const hello = await stream.next((e) => e.event === 'hello');
    const me = (await (await fetch(`${replicaB().url}/api/me`)).json()) as { csrfToken: string };
    await fetch(`${replicaB().url}/api/events/${hello.data.streamId}/watch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
      body: JSON.stringify(watch),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    return stream;
  };

  it('when a twin is changed through replica A, then replica B shows it in the twin history and the fleet audit, and its tabs hear it live', async () => {
    const stream = await tabOnB({ twins: [{ deviceId: device }] });
    try {
      const { twin } = (await stack.api(`/api/devices/${device}`)).body;
      const patched = await stack.api(`/api/devices/${device}/twin`, {
        method: 'PATCH',
        json: { etag: twin.etag, tags: { replica: 'a' } },
      });
      expect(patched.status).toBe(200);

      const history = await onB(`/api/devices/${device}/history`);
      expect(history.body.entries[0]).toMatchObject({
        action: 'twin.patch',
        actor: { name: 'Local operator' },
        change: { tags: { replica: 'a' } },
        result: 'succeeded',
        after: { version: patched.body.twin.version },
      });
      const fleet = await onB(`/api/audit?deviceId=${device}&kind=twin&actor=local%20op`);
      expect(fleet.status).toBe(200);
      expect(fleet.body.entries[0].id).toBe(history.body.entries[0].id);
      // Filters are parameters: text that would be SQL matches nothing and breaks nothing.
      const hostile = await onB(`/api/audit?actor=${encodeURIComponent("x' OR 1=1 --")}`);
      expect(hostile).toEqual({ status: 200, body: { entries: [] } });
      const wildcard = await onB(`/api/audit?actor=${encodeURIComponent('%')}`);
      expect(wildcard.body.entries).toEqual([]);

      const activity = await stream.next(
        (e) => e.event === 'activity' && e.data.entry.result === 'succeeded',
      );
      expect(activity.data.entry).toMatchObject({
        target: { deviceId: device },
        action: 'twin.patch',
      });
    } finally {
      stream.close();
    }
  });

  it('when the fleet audit is paged and filtered by time, then each page follows the last and nothing repeats', async () => {
    const { twin } = (await stack.api(`/api/devices/${device}`)).body;
    let etag = twin.etag as string;
    for (let i = 0; i < 5; i++) {
      const patched = await stack.api(`/api/devices/${device}/twin`, {
        method: 'PATCH',
        json: { etag, tags: { page: i } },
      });
      etag = patched.body.twin.etag;
    }
    const first = await onB(`/api/audit?deviceId=${device}&limit=2`);
    const second = await onB(`/api/audit?deviceId=${device}&limit=2&before=${first.body.next}`);
    const ids = [...first.body.entries, ...second.body.entries].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(4);
    expect(second.body.entries[0].change).toEqual({ tags: { page: 2 } });
    const future = await onB(`/api/audit?from=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.body.entries).toEqual([]);
    expect((await onB('/api/audit?kind=gossip')).status).toBe(400);
  });

  it('when a rollout is started through replica A, then tabs on replica B follow it live to its end, whichever replica drives it, and B shows the same state', async () => {
    const stream = await tabOnB({ twins: [], rollouts: true });
    try {
      const created = await stack.api('/api/rollouts', {
        method: 'POST',
        json: {
          name: 'Across replicas',
          filter: { tags: ['site=toronto'] },
          change: { tags: { replicated: true } },
          plan: testPlan(),
        },
      });
      expect(created.status).toBe(201);
      const { id } = created.body.rollout;
      // B hears every step; it refetches until the rollout is over.
      let rollout: { status: string; counts: Record<string, number> } | undefined;
      while (rollout?.status !== 'completed') {
        await stream.next((e) => e.event === 'rollout' && e.data.id === id);
        rollout = (await onB(`/api/rollouts/${id}`)).body.rollout;
      }
      expect(rollout.counts).toEqual({ succeeded: 2 });
      expect((await stack.api(`/api/rollouts/${id}`)).body.rollout.status).toBe('completed');
    } finally {
      stream.close();
    }
  });

  it('when the database goes down, then writes are refused before the hub is called, with a clear message', async () => {
    const { twin } = (await stack.api(`/api/devices/${device}`)).body;
    await database().stop();
    const refused = await stack.api(`/api/devices/${device}/twin`, {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { unaudited: true } },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('database_unavailable');
    expect(refused.body.message).toMatch(
      /audit trail cannot be written \(the team's database is unavailable\), so nothing was changed/,
    );
    expect(refused.text).not.toContain('test-password');
    expect((await stack.registry.getTwin(device)).responseBody.etag).toBe(twin.etag);
  }, 30_000);
});
