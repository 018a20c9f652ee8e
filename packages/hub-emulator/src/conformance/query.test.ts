import { describe, expect, it } from 'vitest';
import { expectSdkError } from './sdk-errors.ts';
import { useHub } from './hub.ts';

describe('azure-iothub Registry: IoT Hub queries', () => {
  const hub = useHub({ seed: 'demo' });

  async function all(sql: string, pageSize?: number) {
    const query = hub.registry.createQuery(sql, pageSize);
    const pages: unknown[][] = [];
    while (query.hasMoreResults) {
      // With promises the SDK's next() must be handed the token, or it starts over.
      const { result } = await query.next(query.continuationToken);
      pages.push(result as unknown[]);
      if (pages.length > 100) throw new Error('the query never reached its last page');
    }
    return pages;
  }

  it('when SELECT * is paged, then every page is full until the last, which carries no continuation', async () => {
    const pages = await all('SELECT * FROM devices', 5);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    const ids = pages.flat().map((t) => (t as { deviceId: string }).deviceId);
    expect(new Set(ids).size).toBe(12);
  });

  it('when twins are read with nextAsTwin, then each item is a Twin with its tags', async () => {
    const query = hub.registry.createQuery(
      "SELECT * FROM devices WHERE tags.site = 'lyon' AND tags.role = 'hvac'",
    );
    const { result } = await query.nextAsTwin();
    expect(result).toHaveLength(1);
    expect(result[0]!.deviceId).toBe('lyon-south-hvac-09');
    expect(result[0]!.tags).toMatchObject({ site: 'lyon', building: 'south', role: 'hvac' });
    expect(query.hasMoreResults).toBe(false);
  });

  it('when WHERE uses IN, NIN, NOT, OR, comparisons and functions, then rows match as IoT Hub defines', async () => {
    const ids = async (where: string) =>
      (await all(`SELECT deviceId FROM devices WHERE ${where}`))
        .flat()
        .map((r) => (r as { deviceId: string }).deviceId)
        .sort();
    expect(await ids("tags.site IN ['toronto']")).toEqual([
      'toronto-hq-gateway-11',
      'toronto-hq-hvac-12',
    ]);
    expect((await ids("tags.site NIN ['berlin', 'lyon']")).length).toBe(2);
    expect((await ids("NOT (tags.site = 'berlin') AND tags.role <> 'gateway'")).length).toBe(4);
    expect((await ids("tags.role = 'camera' OR tags.building = 'hq'")).length).toBe(4);
    expect((await ids("STARTSWITH(deviceId, 'berlin-b2')")).length).toBe(3);
    expect(await ids("ENDSWITH(deviceId, '-01')")).toEqual(['berlin-b1-gateway-01']);
    expect((await ids('IS_DEFINED(tags.owner.team)')).length).toBe(12);
    expect((await ids('IS_DEFINED(tags.nothing)')).length).toBe(0);
    expect((await ids("properties.reported.firmware.version = '1.9.0'")).length).toBe(4);
    expect((await ids('properties.desired.$version >= 2')).length).toBe(12);
    expect((await ids("tags.site > 'lyon'")).length).toBe(2);
    // A missing property compares as undefined, so the row is dropped either way.
    expect((await ids("tags.missing != 'x'")).length).toBe(0);
  });

  it('when a projection uses AS and TOP, then rows carry the chosen names and stop at TOP', async () => {
    const [page] = await all(
      "SELECT TOP 3 DeviceId, tags.site AS place FROM devices WHERE tags.role = 'meter'",
    );
    expect(page).toEqual([
      { deviceId: 'berlin-b1-meter-03', place: 'berlin' },
      { deviceId: 'berlin-b2-meter-05', place: 'berlin' },
      { deviceId: 'lyon-north-meter-08', place: 'lyon' },
    ]);
    const paged = await all('SELECT TOP 5 deviceId FROM devices', 2);
    expect(paged.map((p) => p.length)).toEqual([2, 2, 1]);
  });

  it('when aggregates are grouped, then each group is counted', async () => {
    const [rows] = await all(
      'SELECT tags.site AS site, COUNT() AS devices FROM devices GROUP BY tags.site',
    );
    expect(rows).toEqual([
      { site: 'berlin', devices: 6 },
      { site: 'lyon', devices: 4 },
      { site: 'toronto', devices: 2 },
    ]);
    const counted = await all("SELECT COUNT() FROM devices WHERE tags.role = 'gateway'");
    expect(counted).toEqual([[{ $1: 3 }]]);
    const [stats] = await all(
      'SELECT MIN(properties.desired.$version) AS lo, MAX(properties.desired.$version) AS hi, SUM(version) AS s, AVG(version) AS a FROM devices',
    );
    expect(stats).toEqual([{ lo: 2, hi: 2, s: 48, a: 4 }]);
  });

  it('when modules are queried, then module twins come back and can be filtered by moduleId and device', async () => {
    const [rows] = await all(
      "SELECT deviceId, moduleId FROM devices.modules WHERE moduleId = 'storage'",
    );
    expect(rows).toHaveLength(3);
    const twins = await hub.registry
      .createQuery("SELECT * FROM devices.modules WHERE deviceId IN ['toronto-hq-hvac-12']")
      .nextAsTwin();
    expect(twins.result.map((t) => t.moduleId).sort()).toEqual(['controller', 'telemetry']);
    expect(twins.result[0]!.properties.desired.$version).toBe(2);
  });

  it('when a query has a syntax error, then ArgumentError points at the position', async () => {
    const error = await expectSdkError(
      hub.registry.createQuery('SELECT * FORM devices').next(),
      'ArgumentError',
    );
    expect(error.message).toContain('position 9');
    expect(error.message).toContain('FROM');
    for (const bad of [
      "SELECT * FROM devices WHERE tags.site = 'unterminated",
      'SELECT * FROM devices WHERE NOPE(1)',
      'SELECT deviceId, COUNT() FROM devices',
      'SELECT * FROM devices.things',
    ]) {
      await expectSdkError(hub.registry.createQuery(bad).next(), 'ArgumentError');
    }
  });

  it('when the query is empty or too long, then the hub answers 400', async () => {
    for (const query of ['', ' ', `SELECT * FROM devices WHERE deviceId = '${'x'.repeat(8200)}'`]) {
      const response = await hub.raw.send('POST', '/devices/query?api-version=2021-04-12', {
        body: JSON.stringify({ query }),
      });
      expect(response.status).toBe(400);
    }
  });

  it('when a query nests 2,000 parentheses, then 400 with the position; 50 levels still run', async () => {
    const deep = `SELECT * FROM devices WHERE ${'('.repeat(2000)}deviceId = 'x'${')'.repeat(2000)}`;
    const error = await expectSdkError(hub.registry.createQuery(deep).next(), 'ArgumentError');
    expect(error.message).toMatch(/nests deeper than 50 levels .* at position 78/);
    for (const hostile of [
      `SELECT * FROM devices WHERE ${'NOT '.repeat(2000)}deviceId = 'x'`,
      `SELECT * FROM devices WHERE deviceId = ${'-'.repeat(3000)}1`,
      `SELECT * FROM devices WHERE deviceId IN ${'['.repeat(2000)}1${']'.repeat(2000)}`,
      `SELECT * FROM devices WHERE ${'LOWER('.repeat(1000)}deviceId${')'.repeat(1000)} = 'x'`,
    ]) {
      await expectSdkError(hub.registry.createQuery(hostile).next(), 'ArgumentError');
    }
    const fifty = `SELECT * FROM devices WHERE ${'('.repeat(50)}deviceId = 'berlin-b1-meter-03'${')'.repeat(50)}`;
    expect((await hub.registry.createQuery(fifty).next()).result).toHaveLength(1);
  });

  it('when a path names a prototype member (constructor, __proto__, toString), then it is undefined', async () => {
    for (const path of [
      'tags.constructor',
      'tags.__proto__',
      'tags.toString',
      'properties.desired.constructor',
      'properties.reported.hasOwnProperty',
      "tags['constructor']",
    ]) {
      const { result } = await hub.registry
        .createQuery(`SELECT COUNT() AS n FROM devices WHERE IS_DEFINED(${path})`)
        .next();
      expect(result, path).toEqual([{ n: 0 }]);
    }
    const projected = await hub.registry
      .createQuery(
        "SELECT deviceId AS __proto__ FROM devices WHERE deviceId = 'berlin-b1-meter-03'",
      )
      .next();
    expect(JSON.stringify(projected.result)).toBe('[{"__proto__":"berlin-b1-meter-03"}]');
  });

  it('when the continuation token is forged, then the hub answers 400 instead of guessing', async () => {
    const response = await hub.raw.send('POST', '/devices/query?api-version=2021-04-12', {
      body: JSON.stringify({ query: 'SELECT * FROM devices' }),
      headers: { 'x-ms-continuation': 'bm90LWEtdG9rZW4' },
    });
    expect(response.status).toBe(400);
    expect(response.headers['iothub-errorcode']).toBe('ArgumentInvalid');
  });
});
