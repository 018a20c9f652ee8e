import { describe, expect, it } from 'vitest';
import { testPlan } from './fixtures/rollout-plan.ts';
import { openStream, useStack } from './harness.ts';

describe('BFF: roles decide who may change what, and CSRF guards every change', () => {
  describe('as a Reader', () => {
    const stack = useStack({ env: { TWINSCOPE_LOCAL_ROLE: 'Reader' } });

    it('when a Reader browses, then it works; a twin PATCH sent by hand is refused and nothing changes', async () => {
      expect((await stack.api('/api/devices')).status).toBe(200);
      const me = await stack.api('/api/me');
      expect(me.body.user.roles).toEqual(['Reader']);
      const { twin } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
      const patch = await stack.api('/api/devices/berlin-b1-meter-03/twin', {
        method: 'PATCH',
        json: { etag: twin.etag, desired: { x: 1 } },
      });
      expect(patch.status).toBe(403);
      expect(patch.body.message).toMatch(/needs the Operator role/);
      expect((await stack.registry.getTwin('berlin-b1-meter-03')).responseBody.etag).toBe(
        twin.etag,
      );
      const reveal = await stack.api(
        '/api/devices/berlin-b1-meter-03/modules/telemetry/connection-string',
        { method: 'POST' },
      );
      expect(reveal.status).toBe(403);
      expect(reveal.text).not.toMatch(/SharedAccessKey/);
      const invoke = await stack.api('/api/devices/berlin-b1-meter-03/methods', {
        method: 'POST',
        json: { methodName: 'reboot' },
      });
      expect(invoke.status).toBe(403);
      expect(invoke.body.message).toMatch(/needs the Operator role/);
      expect((await stack.api('/api/devices/berlin-b1-meter-03/methods')).status).toBe(200);
      const send = await stack.api('/api/devices/berlin-b1-meter-03/messages', {
        method: 'POST',
        json: { body: 'hello' },
      });
      expect(send.status).toBe(403);
      // Watching telemetry is reading: a Reader may.
      const stream = await openStream(`${stack.bff.url}/api/events`);
      try {
        const hello = await stream.next((e) => e.event === 'hello');
        const watch = await stack.api(`/api/events/${hello.data.streamId}/telemetry`, {
          method: 'POST',
          json: { targets: [{ deviceId: 'berlin-b1-meter-03' }] },
        });
        expect(watch.status).toBe(204);
        // The fleet's audit trail is not a Reader's, neither as a page nor live.
        const everything = await stack.api(`/api/events/${hello.data.streamId}/watch`, {
          method: 'POST',
          json: { twins: [], audit: true },
        });
        expect(everything.status).toBe(403);
        expect(everything.body.message).toMatch(/needs the Operator role/);
      } finally {
        stream.close();
      }
      expect((await stack.api('/api/audit')).status).toBe(403);
      expect((await stack.api('/api/devices/berlin-b1-meter-03/history')).status).toBe(200);
      // An IoT Edge device: its page is a Reader's; restarts, logs and deployments are not.
      await stack.registry.create({
        deviceId: 'reader-edge',
        capabilities: { iotEdge: true },
      } as never);
      expect((await stack.api('/api/devices/reader-edge/edge')).status).toBe(200);
      for (const [path, init, role] of [
        ['/api/devices/reader-edge/edge/modules/sensor/restart', { method: 'POST' }, 'Operator'],
        ['/api/devices/reader-edge/edge/modules/sensor/logs', {}, 'Operator'],
        [
          '/api/devices/reader-edge/edge/modules-content',
          { method: 'PUT', json: { modulesContent: {} } },
          'Admin',
        ],
      ] as const) {
        const refused = await stack.api(path, init);
        expect(refused.status, path).toBe(403);
        expect(refused.body.message).toMatch(`needs the ${role} role`);
      }
      const list = await stack.api('/api/devices/berlin-b1-meter-03/messages');
      expect(list.body).toMatchObject({ queued: 0, messages: [] });
    });
  });

  describe('as an Operator', () => {
    const stack = useStack({ env: { TWINSCOPE_LOCAL_ROLE: 'Operator' } });

    it('when an Operator edits a twin it works, but module identities stay an Admin matter', async () => {
      const { twin } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
      const patch = await stack.api('/api/devices/berlin-b1-meter-03/twin', {
        method: 'PATCH',
        json: { etag: twin.etag, tags: { floor: 1 } },
      });
      expect(patch.status).toBe(200);
      const create = await stack.api('/api/devices/berlin-b1-meter-03/modules', {
        method: 'POST',
        json: { moduleId: 'nope' },
      });
      expect(create.status).toBe(403);
      expect(create.body.message).toMatch(/needs the Admin role/);
      const { device } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
      for (const [path, init] of [
        ['/api/devices', { method: 'POST', json: { deviceId: 'operator-made' } }],
        [
          '/api/devices/berlin-b1-meter-03',
          { method: 'PATCH', json: { etag: device.etag, status: 'disabled' } },
        ],
        ['/api/devices/berlin-b1-meter-03/connection-string', { method: 'POST' }],
        [
          '/api/devices/bulk',
          {
            method: 'POST',
            json: {
              action: 'disable',
              devices: [{ deviceId: 'berlin-b1-meter-03', etag: device.etag }],
            },
          },
        ],
        [
          `/api/devices/berlin-b1-meter-03?etag=${encodeURIComponent(device.etag)}`,
          { method: 'DELETE' },
        ],
        ['/api/devices/berlin-b1-meter-03/messages', { method: 'DELETE' }],
        [
          '/api/devices/berlin-b1-meter-03/edge/modules-content',
          { method: 'PUT', json: { modulesContent: {} } },
        ],
      ] as const) {
        const refused = await stack.api(path, init);
        expect(refused.status, path).toBe(403);
        expect(refused.text).not.toMatch(/SharedAccessKey/);
      }
      expect((await stack.registry.get('berlin-b1-meter-03')).responseBody.status).toBe('enabled');
    });

    it('when an Operator runs a rollout that needs approval, then it waits at the canary and only an Admin may let it go on', async () => {
      const created = await stack.api('/api/rollouts', {
        method: 'POST',
        json: {
          name: 'Needs an Admin',
          filter: { tags: ['site=toronto'] },
          change: { tags: { approvedRing: true } },
          plan: testPlan({ approval: true }),
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.rollout.id;
      let rollout = created.body.rollout;
      for (let i = 0; i < 100 && rollout.status !== 'awaiting_approval'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        rollout = (await stack.api(`/api/rollouts/${id}`)).body.rollout;
      }
      expect(rollout.status).toBe('awaiting_approval');
      const approve = await stack.api(`/api/rollouts/${id}/approve`, { method: 'POST', json: {} });
      expect(approve.status).toBe(403);
      expect(approve.body.message).toMatch(/needs the Admin role/);
      expect((await stack.api(`/api/rollouts/${id}`)).body.rollout.status).toBe(
        'awaiting_approval',
      );
      // An Operator may still stop it.
      expect(
        (await stack.api(`/api/rollouts/${id}/cancel`, { method: 'POST', json: {} })).status,
      ).toBe(200);
    });

    it('when a change comes without the CSRF header or with a wrong one, then it is refused', async () => {
      const { twin } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
      const path = '/api/devices/berlin-b1-meter-03/twin';
      const json = { etag: twin.etag, tags: { floor: 2 } };
      const missing = await stack.api(path, { method: 'PATCH', json, withoutCsrf: true });
      expect(missing.status).toBe(403);
      expect(missing.body.message).toMatch(/X-CSRF-Token/);
      const wrong = await stack.api(path, {
        method: 'PATCH',
        json,
        headers: { 'X-CSRF-Token': 'x'.repeat(43) },
      });
      expect(wrong.status).toBe(403);
      expect((await stack.registry.getTwin('berlin-b1-meter-03')).responseBody.tags['floor']).toBe(
        1,
      );
    });
  });
});
