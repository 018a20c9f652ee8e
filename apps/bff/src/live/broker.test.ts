import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { EventBroker } from './broker.ts';

/** Just enough of a server response to hold an SSE stream whose client reads slowly. */
function slowResponse() {
  const response = Object.assign(new EventEmitter(), {
    written: [] as string[],
    writableLength: 0,
    destroyed: false,
    ended: false,
    writeHead() {
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
    end() {
      response.ended = true;
    },
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

const local = { id: 'local' };
const open = (broker: EventBroker, owner = local, lastEventId?: string) => {
  const response = slowResponse();
  const id = broker.open(response as unknown as ServerResponse, lastEventId, owner);
  return { id, response };
};
const hellos = (response: ReturnType<typeof slowResponse>) =>
  response.written
    .filter((c) => c.startsWith('event: hello'))
    .map((c) => JSON.parse(/data: (.*)/.exec(c)![1]!) as { resync?: boolean });

describe('SSE fan-out', () => {
  it('when a tab stops reading, then it is dropped instead of buffered without bound, and the others keep receiving', () => {
    const broker = new EventBroker({
      maxBufferedBytes: 2000,
      heartbeatMs: 60_000,
    });
    const slow = slowResponse();
    const healthy = slowResponse();
    const slowId = broker.open(slow as unknown as ServerResponse, undefined, local);
    const healthyId = broker.open(healthy as unknown as ServerResponse, undefined, local);
    broker.watch(slowId, [{ deviceId: 'd1' }], 'local');
    broker.watch(healthyId, [{ deviceId: 'd1' }], 'local');
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

  it('when the replica stops, then every tab is told to come back in 250 ms and its stream ends', () => {
    const broker = new EventBroker({ heartbeatMs: 60_000 });
    const tabs = [open(broker), open(broker)];
    broker.closeAll({ retryMs: 250 });
    for (const { response } of tabs) {
      expect(response.written.at(-1)).toBe('retry: 250\n\n');
      expect(response.ended).toBe(true);
    }
    expect(broker.streamCount).toBe(0);
  });

  it('when a twin event is published, then only tabs watching that twin get it', () => {
    const broker = new EventBroker({
      heartbeatMs: 60_000,
    });
    const watching = slowResponse();
    const other = slowResponse();
    broker.watch(
      broker.open(watching as unknown as ServerResponse, undefined, local),
      [{ deviceId: 'd1' }],
      'local',
    );
    broker.open(other as unknown as ServerResponse, undefined, local);
    broker.publish(twinEvent(1));
    broker.publish({ type: 'identity', change: 'created', deviceId: 'd2' });
    expect(watching.written.filter((c) => c.startsWith('id: ')).length).toBe(2);
    expect(other.written.filter((c) => c.startsWith('id: ')).length).toBe(1);
    broker.closeAll();
  });
});

describe('SSE limits: what one session, or a forged resume, may cost', () => {
  it('when a session opens more streams than allowed, then the next is refused with 429 and other sessions still open theirs', () => {
    const broker = new EventBroker({
      heartbeatMs: 60_000,
      maxStreamsPerOwner: 3,
      maxStreams: 5,
    });
    const reader = { id: 'reader-session' };
    const first = open(broker, reader);
    open(broker, reader);
    open(broker, reader);
    expect(() => open(broker, reader)).toThrow(/already has 3 live streams/);
    // A closed tab frees its place.
    first.response.destroy();
    expect(() => open(broker, reader)).not.toThrow();
    open(broker, { id: 'operator-session' });
    open(broker, { id: 'admin-session' });
    expect(() => open(broker, { id: 'someone-else' })).toThrow(/as many live streams as it may/);
    broker.closeAll();
  });

  it("when another session names a stream's id, then it cannot change what that stream watches", () => {
    const broker = new EventBroker({ heartbeatMs: 60_000 });
    const victim = open(broker, { id: 'victim' });
    expect(broker.watch(victim.id, [{ deviceId: 'd1' }], 'attacker')).toBe(false);
    expect(broker.watchedTwins()).toEqual([]);
    expect(broker.watch(victim.id, [{ deviceId: 'd1' }], 'victim')).toBe(true);
    expect(broker.watchedTwins()).toEqual([{ deviceId: 'd1' }]);
    broker.closeAll();
  });

  it('when a resume would replay more than the limit, then the tab is told to refetch instead', () => {
    const broker = new EventBroker({ heartbeatMs: 60_000, maxReplayBytes: 4000 });
    for (let version = 1; version <= 30; version++) broker.publish(twinEvent(version));
    const small = open(broker, local, `${broker.bootId}-28`);
    expect(hellos(small.response)).toEqual([expect.objectContaining({ resync: false })]);
    expect(small.response.written.filter((c) => c.startsWith('id: ')).length).toBe(2);
    const forged = open(broker, local, `${broker.bootId}-0`);
    expect(hellos(forged.response)).toEqual([expect.objectContaining({ resync: true })]);
    expect(forged.response.written.filter((c) => c.startsWith('id: ')).length).toBe(0);
    broker.closeAll();
  });

  it('when a session resumes from old positions again and again, then the event source is read back only a few times', async () => {
    let reads = 0;
    const broker = new EventBroker({
      heartbeatMs: 60_000,
      catchUpBurst: 2,
      catchUpEverySeconds: 600,
      resume: {
        partitionCount: 2,
        coveredAfter: () => 100,
        catchUp: async () => {
          reads++;
          return { entries: [], complete: true };
        },
      },
    });
    const resumes = Array.from({ length: 10 }, () => open(broker, local, 'eh:-1.-1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toBe(2);
    // The rest were told to refetch, which costs the hub nothing it would not spend anyway.
    expect(resumes.slice(2).every(({ response }) => hellos(response).some((h) => h.resync))).toBe(
      true,
    );
    broker.closeAll();
  });
});
