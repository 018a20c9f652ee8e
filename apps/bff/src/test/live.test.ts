import { describe, expect, it } from 'vitest';
import { openStream, useStack } from './harness.ts';

describe('BFF: live twin changes over SSE', () => {
  const stack = useStack();

  it('when a stream opens, then it gets retry, a hello with its id and the feed state, and heartbeats', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
      expect(stream.response.headers.get('cache-control')).toBe('no-cache, no-transform');
      const hello = await stream.next((e) => e.event === 'hello');
      expect(hello.data).toMatchObject({
        type: 'hello',
        feed: { source: 'polling', healthy: true },
      });
      expect(hello.data.streamId).toBeTruthy();
      expect(stream.raw).toMatch(/^retry: \d+\n\n/);
      // The harness's broker beats every 500 ms.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(stream.raw.match(/^: heartbeat \d+$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      stream.close();
    }
  });

  it('when the console saves a watched twin, then the tab gets the event at once with the changed sections', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      const { data } = await stream.next((e) => e.event === 'hello');
      const watch = await stack.api(`/api/events/${data.streamId}/watch`, {
        method: 'POST',
        json: { twins: [{ deviceId: 'berlin-b2-camera-06' }] },
      });
      expect(watch.status).toBe(204);
      const { twin } = (await stack.api('/api/devices/berlin-b2-camera-06')).body;
      await stack.api('/api/devices/berlin-b2-camera-06/twin', {
        method: 'PATCH',
        json: { etag: twin.etag, desired: { zoom: 2 } },
      });
      // The poller may announce the twin when it first sees it; the save's own event is the console's.
      const event = await stream.next((e) => e.event === 'twin' && e.data.origin === 'console');
      expect(event.data).toMatchObject({
        deviceId: 'berlin-b2-camera-06',
        sections: ['desired'],
        origin: 'console',
        version: twin.version + 1,
      });
      expect(event.data.twin.properties.desired.zoom).toBe(2);
    } finally {
      stream.close();
    }
  });

  it('when a watched twin changes elsewhere, then the poller finds it and tells the tab which sections changed', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      const { data } = await stream.next((e) => e.event === 'hello');
      await stack.api(`/api/events/${data.streamId}/watch`, {
        method: 'POST',
        json: {
          twins: [
            { deviceId: 'toronto-hq-gateway-11', moduleId: 'storage' },
            { deviceId: 'toronto-hq-gateway-11' },
          ],
        },
      });
      // Let the poller see the current versions first (a tick already under way returns 0).
      while ((await stack.bff.live.pollNow()) === 0)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await stack.registry.updateModuleTwin(
        'toronto-hq-gateway-11',
        'storage',
        { properties: { desired: { retentionDays: 30 } } },
        '*',
      );
      stack.emulator.registry.patchReported('toronto-hq-gateway-11', undefined, { uptime: 5 });
      const moduleEvent = await stream.next(
        (e) => e.event === 'twin' && e.data.moduleId === 'storage' && e.data.sections.length > 0,
      );
      expect(moduleEvent.data).toMatchObject({ origin: 'hub', sections: ['desired'] });
      expect(moduleEvent.data.twin.properties.desired.retentionDays).toBe(30);
      const deviceEvent = await stream.next(
        (e) =>
          e.event === 'twin' &&
          e.data.deviceId === 'toronto-hq-gateway-11' &&
          !e.data.moduleId &&
          e.data.sections.length > 0,
      );
      expect(deviceEvent.data.sections).toEqual(['reported']);
    } finally {
      stream.close();
    }
  });

  it('when a tab reconnects with Last-Event-ID, then it gets what it missed, and a stranger id asks it to resync', async () => {
    const first = await openStream(`${stack.bff.url}/api/events`);
    const { data } = await first.next((e) => e.event === 'hello');
    await stack.api(`/api/events/${data.streamId}/watch`, {
      method: 'POST',
      json: { twins: [{ deviceId: 'berlin-b1-meter-03' }] },
    });
    const patch = async (value: number) => {
      const { twin } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
      await stack.api('/api/devices/berlin-b1-meter-03/twin', {
        method: 'PATCH',
        json: { etag: twin.etag, desired: { step: value } },
      });
    };
    await patch(1);
    const seen = await first.next((e) => e.event === 'twin' && e.data.origin === 'console');
    first.close();
    await patch(2);
    await patch(3);
    const resumed = await openStream(`${stack.bff.url}/api/events`, seen.id);
    try {
      const hello = await resumed.next((e) => e.event === 'hello');
      expect(hello.data.resync).toBe(false);
      await resumed.next((e) => e.event === 'twin' && e.data.twin.properties.desired.step === 3);
      const steps = resumed.events
        .filter((e) => e.event === 'twin' && e.data.origin === 'console')
        .map((e) => e.data.twin.properties.desired.step);
      expect(steps).toEqual([2, 3]);
    } finally {
      resumed.close();
    }
    const stranger = await openStream(`${stack.bff.url}/api/events`, 'other-boot-7');
    try {
      expect((await stranger.next((e) => e.event === 'hello')).data.resync).toBe(true);
    } finally {
      stranger.close();
    }
  });

  it('when a watch names a stream that is gone, then 404', async () => {
    const response = await stack.api('/api/events/not-a-stream/watch', {
      method: 'POST',
      json: { twins: [] },
    });
    expect(response.status).toBe(404);
  });
});
