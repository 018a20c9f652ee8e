import { describe, expect, it } from 'vitest';
import type { DeviceListResponse, Twin, TwinChangedEvent } from '@twinscope/contract';
import { applyTwinEvent, applyTwinEventToList } from './apply-twin-event.ts';

const twin = (version: number, extra: Partial<Twin> = {}): Twin => ({
  deviceId: 'd1',
  etag: `e${version}`,
  version,
  tags: { v: version },
  properties: { desired: { $version: version }, reported: {} },
  ...extra,
});

const event = (t: Twin): TwinChangedEvent => ({
  type: 'twin',
  deviceId: t.deviceId,
  ...(t.moduleId ? { moduleId: t.moduleId } : {}),
  version: t.version,
  sections: ['tags'],
  twin: t,
  origin: 'hub',
});

describe('applying live twin events to the cache', () => {
  it('when the event is newer, then the cached twin is replaced and other fields kept', () => {
    const cached = { device: { name: 'x' }, twin: twin(3) };
    const next = applyTwinEvent(cached, event(twin(4)));
    expect(next?.twin.version).toBe(4);
    expect(next?.device).toBe(cached.device);
  });

  it('when the event is stale or the same version, then the cache is returned untouched', () => {
    const cached = { twin: twin(5) };
    expect(applyTwinEvent(cached, event(twin(5)))).toBe(cached);
    expect(applyTwinEvent(cached, event(twin(2)))).toBe(cached);
    expect(applyTwinEvent(undefined, event(twin(9)))).toBeUndefined();
  });

  it('when only the connection state moved at the same version, then it is taken', () => {
    const cached = { twin: twin(5, { connectionState: 'Disconnected' }) };
    expect(
      applyTwinEvent(cached, event(twin(5, { connectionState: 'Connected' })))?.twin
        .connectionState,
    ).toBe('Connected');
    expect(applyTwinEvent(cached, event(twin(5, { connectionState: 'Disconnected' })))).toBe(
      cached,
    );
  });

  it('when the event is for a module of the device, then the device twin is not touched', () => {
    const cached = { twin: twin(1) };
    expect(applyTwinEvent(cached, event(twin(7, { moduleId: 'm1' })))).toBe(cached);
    const moduleCached = { twin: twin(1, { moduleId: 'm1' }) };
    expect(applyTwinEvent(moduleCached, event(twin(2, { moduleId: 'm1' })))?.twin.version).toBe(2);
  });

  it('when a list row is older than the event, then only that row changes', () => {
    const page: DeviceListResponse = {
      query: 'SELECT * FROM devices',
      items: [
        {
          deviceId: 'd1',
          status: 'enabled',
          connectionState: 'Disconnected',
          tags: {},
          version: 1,
          etag: 'a',
          iotEdge: false,
        },
        {
          deviceId: 'd2',
          status: 'enabled',
          connectionState: 'Disconnected',
          tags: {},
          version: 1,
          etag: 'b',
          iotEdge: false,
        },
      ],
    };
    const next = applyTwinEventToList(page, event(twin(2, { connectionState: 'Connected' })));
    expect(next.items[0]).toMatchObject({
      version: 2,
      tags: { v: 2 },
      connectionState: 'Connected',
    });
    expect(next.items[1]).toBe(page.items[1]);
    expect(applyTwinEventToList(next, event(twin(2)))).toBe(next);
  });
});
