import { describe, expect, it } from 'vitest';
import { useStack, type Harness } from './harness.ts';

describe('BFF: a bad parameter is a 400 that names it', () => {
  const stack: Harness = useStack({
    emulator: { routes: ['TwinChangeEvents'], consumerGroups: ['twinscope'] },
    env: () => ({ TWINSCOPE_EVENTS_CONNECTION_STRING: stack.emulator.events.connectionString }),
  });

  it('when a cursor, a version or an id is out of range or malformed, then the answer is 400 naming the query or path parameter, never a 500', async () => {
    const cases: [string, string][] = [
      // A time no Date holds: it used to reach the database as an invalid date (500).
      ['/api/activity?before=9999999999999999999999999:1:1', 'query parameter before'],
      ['/api/activity?before=8640000000000001:1:1', 'query parameter before'],
      ['/api/activity?before=1765000000000:1:99999999999999999999', 'query parameter before'],
      ['/api/devices/berlin-b1-meter-03/versions?before=99999999999', 'query parameter before'],
      ['/api/devices/berlin-b1-meter-03/versions/99999999999', 'path parameter version'],
      ['/api/devices/berlin-b1-meter-03/versions/one', 'path parameter version'],
      ['/api/devices/berlin%20b1/versions', 'path parameter deviceId'],
      ['/api/devices/berlin-b1-meter-03/modules/te%20lemetry', 'path parameter moduleId'],
      ['/api/audit?before=abc', 'query parameter before'],
      ['/api/devices?pageSize=50000', 'query parameter pageSize'],
      ['/api/devices/berlin-b1-meter-03/timeline?since=yesterday', 'query parameter since'],
      ['/api/rollouts/not-a-uuid', 'path parameter id'],
    ];
    for (const [path, named] of cases) {
      const answer = await stack.api(path);
      expect(answer.status, path).toBe(400);
      expect(answer.body.code, path).toBe('validation_failed');
      expect(answer.body.message, path).toContain(`${named}: `);
      expect(answer.body.violations[0].path, path).toBe(named);
    }
    // Only a twin write's body is told what it may hold.
    const { twin } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
    const reported = await stack.api('/api/devices/berlin-b1-meter-03/twin', {
      method: 'PATCH',
      json: { etag: twin.etag, reported: { x: 1 } },
    });
    expect(reported.status).toBe(400);
    expect(reported.body.message).toMatch(
      /^\(body\): Unrecognized key: "reported"\. Only tags and desired properties can be changed here\./,
    );
    const unknown = await stack.api('/api/devices?color=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('the query string: Unrecognized key: "color"');
  });
});
