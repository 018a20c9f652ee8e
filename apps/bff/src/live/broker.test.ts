import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import { EventBroker } from './broker.ts';

/** Just enough of an Express response to hold an SSE stream whose client reads slowly. */
function slowResponse() {
  const response = Object.assign(new EventEmitter(), {
    written: [] as string[],
    writableLength: 0,
    destroyed: false,
    status() {
      return response;
    },
    set() {
      return response;
    },
    flushHeaders() {},
    write(chunk: string) {
      response.written.push(chunk);
      response.writableLength += chunk.length;
      return true;
    },
    destroy() {
      response.destroyed = true;
      response.emit('close');
    },
    end() {},
  });
  return response;
}

const twinEvent = (version: number) => ({
  type: 'twin' as const,
  deviceId: 'd1',
  version,
  sections: ['desired' as const],
  twin: {
    deviceId: 'd1',
    etag: `e${version}`,
    version,
    tags: {},
    properties: { desired: { pad: 'x'.repeat(400) }, reported: {} },
  },
  origin: 'hub' as const,
});

describe('SSE fan-out', () => {
  it('when a tab stops reading, then it is dropped instead of buffered without bound, and the others keep receiving', () => {
    const broker = new EventBroker(() => ({ source: 'polling', healthy: true }), {
      maxBufferedBytes: 2000,
      heartbeatMs: 60_000,
    });
    const slow = slowResponse();
    const healthy = slowResponse();
    const slowId = broker.open(slow as unknown as Response, undefined);
    const healthyId = broker.open(healthy as unknown as Response, undefined);
    broker.watch(slowId, [{ deviceId: 'd1' }]);
    broker.watch(healthyId, [{ deviceId: 'd1' }]);
    for (let version = 1; version <= 20; version++) {
      broker.publish(twinEvent(version));
      healthy.writableLength = 0; // this one's client drains everything it is sent
    }
    expect(slow.destroyed).toBe(true);
    expect(slow.written.join('').length).toBeLessThan(2000 + 1500);
    expect(broker.streamCount).toBe(1);
    expect(healthy.written.filter((chunk) => chunk.startsWith('id: ')).length).toBe(20);
    broker.closeAll();
  });

  it('when a twin event is published, then only tabs watching that twin get it', () => {
    const broker = new EventBroker(() => ({ source: 'polling', healthy: true }), {
      heartbeatMs: 60_000,
    });
    const watching = slowResponse();
    const other = slowResponse();
    broker.watch(broker.open(watching as unknown as Response, undefined), [{ deviceId: 'd1' }]);
    broker.open(other as unknown as Response, undefined);
    broker.publish(twinEvent(1));
    broker.publish({ type: 'identity', change: 'created', deviceId: 'd2' });
    expect(watching.written.filter((c) => c.startsWith('id: ')).length).toBe(2);
    expect(other.written.filter((c) => c.startsWith('id: ')).length).toBe(1);
    broker.closeAll();
  });
});
