import { describe, expect, it } from 'vitest';
import { uniqueId, useHub } from './hub.ts';
import type { RawResponse } from './raw-client.ts';

const V = 'api-version=2021-04-12';

/**
 * The .NET service SDK's RegistryManager (Microsoft.Azure.Devices 1.41.0), request by request
 * as RegistryManager.cs and HttpClientHelper.cs build them, read in azure-iot-sdk-csharp:
 * every property of its models serialized (nulls and read-only fields included), If-Match
 * always quoted (`"*"` too), and replies read its way.
 */
describe('Emulator: the service API as .NET’s RegistryManager calls it', () => {
  const hub = useHub();

  /** HttpClientHelper.cs 57-63, 755-756: the headers every request carries. */
  const dotnet = (method: string, path: string, body?: unknown, ifMatch?: string) =>
    hub.raw.send(method, `${path}?${V}`, {
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: {
        Accept: 'application/json',
        UserAgent: 'Microsoft.Azure.Devices/1.41.0',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
        ...(ifMatch ? { 'If-Match': ifMatch } : {}),
      },
    });

  /**
   * The error code as ExceptionHandlingHelper.cs 103-220 reads it: `Message` parsed as JSON
   * for `errorCode`, else its first `;`-separated segment as `ErrorCode:Name`; it only counts
   * when the `iothub-errorcode` header names the same code.
   */
  function dotnetErrorCode(response: RawResponse): string {
    const message = String((response.json as { Message?: unknown }).Message ?? '');
    let fromBody: string | undefined;
    try {
      const parsed = JSON.parse(message) as Record<string, string>;
      fromBody = parsed['errorCode'];
    } catch {
      const [label, name] = message.split(';')[0]!.split(':');
      if (label?.toLowerCase() === 'errorcode') fromBody = name;
    }
    return fromBody !== undefined && fromBody === response.headers['iothub-errorcode']
      ? fromBody
      : 'InvalidErrorCode';
  }

  /** AuthenticationMechanism.cs as a new Device or Module serializes it (NormalizeDevice). */
  const newAuthentication = {
    symmetricKey: { primaryKey: null, secondaryKey: null },
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    type: 'sas',
  };

  /** Device.cs 38-137 as `new Device(id)` serializes. */
  const newDevice = (deviceId: string) => ({
    deviceId,
    generationId: null,
    etag: null,
    connectionState: 'Disconnected',
    status: 'enabled',
    statusReason: null,
    connectionStateUpdatedTime: '0001-01-01T00:00:00',
    statusUpdatedTime: '0001-01-01T00:00:00',
    lastActivityTime: '0001-01-01T00:00:00',
    cloudToDeviceMessageCount: 0,
    authentication: newAuthentication,
    parentScopes: [],
  });

  it('when .NET adds, reads, updates and removes a device and a module, then each request is taken as it is sent', async () => {
    const deviceId = uniqueId('dotnet-rm');
    const added = await dotnet('PUT', `/devices/${deviceId}`, newDevice(deviceId));
    expect(added.status).toBe(200);
    const device = added.json as { etag: string; authentication: unknown; status: string };
    expect(device.status).toBe('enabled');
    expect(device.authentication).toMatchObject({ type: 'sas' });

    const again = await dotnet('PUT', `/devices/${deviceId}`, newDevice(deviceId));
    expect(again.status).toBe(409);
    expect(dotnetErrorCode(again)).toBe('DeviceAlreadyExists');

    // UpdateDeviceAsync: the etag quoted; forceUpdate: "*" quoted too.
    const disabled = { ...(added.json as object), status: 'disabled' };
    const updated = await dotnet('PUT', `/devices/${deviceId}`, disabled, `"${device.etag}"`);
    expect(updated.status).toBe(200);
    expect((updated.json as { status: string }).status).toBe('disabled');
    const stale = await dotnet('PUT', `/devices/${deviceId}`, disabled, `"${device.etag}"`);
    expect(stale.status).toBe(412);
    expect(dotnetErrorCode(stale)).toBe('PreconditionFailed');
    const forced = await dotnet(
      'PUT',
      `/devices/${deviceId}`,
      { ...(updated.json as object), status: 'enabled' },
      '"*"',
    );
    expect(forced.status).toBe(200);

    // AddModuleAsync: Module.cs 42-98, nulls included, no If-Match.
    const module = await dotnet('PUT', `/devices/${deviceId}/modules/sensor`, {
      moduleId: 'sensor',
      deviceId,
      generationId: null,
      etag: null,
      connectionState: 'Disconnected',
      connectionStateUpdatedTime: '0001-01-01T00:00:00',
      lastActivityTime: '0001-01-01T00:00:00',
      cloudToDeviceMessageCount: 0,
      authentication: newAuthentication,
      managedBy: null,
    });
    expect(module.status).toBe(200);

    // RemoveDeviceAsync(id): If-Match "*", any 2xx.
    const removed = await dotnet('DELETE', `/devices/${deviceId}`, undefined, '"*"');
    expect(removed.status).toBeGreaterThanOrEqual(200);
    expect(removed.status).toBeLessThan(300);
    const gone = await dotnet('GET', `/devices/${deviceId}`);
    expect(gone.status).toBe(404);
    expect(dotnetErrorCode(gone)).toBe('DeviceNotFound');
  });

  it('when .NET patches a twin, replaces one it read and queries, then its serialized Twin is taken (reported properties ignored, as IoT Hub does) and the query says it holds twins', async () => {
    const deviceId = uniqueId('dotnet-twin');
    expect((await dotnet('PUT', `/devices/${deviceId}`, newDevice(deviceId))).status).toBe(200);
    // TwinJsonConverter.cs 73-187: deviceId, etag, version, then properties with both halves.
    const patch = {
      deviceId,
      etag: null,
      version: null,
      tags: { site: 'lyon' },
      // Reported properties are the device's: a service PATCH carrying some changes none.
      properties: { desired: { interval: 30 }, reported: { sneaky: true } },
    };
    const patched = await dotnet('PATCH', `/twins/${deviceId}`, patch, '"*"');
    expect(patched.status).toBe(200);
    const twin = patched.json as {
      etag: string;
      tags: Record<string, unknown>;
      properties: { desired: Record<string, unknown>; reported: Record<string, unknown> };
    };
    expect(twin.tags).toEqual({ site: 'lyon' });
    expect(twin.properties.desired['interval']).toBe(30);
    expect(twin.properties.reported['sneaky']).toBeUndefined();
    expect(twin.properties.reported['$version']).toBe(1);

    // The usual .NET pattern: read the twin, change it, ReplaceTwinAsync with what was read,
    // reported properties and all; IoT Hub writes the mutable fields and ignores the rest.
    const read = (await dotnet('GET', `/twins/${deviceId}`)).json as {
      etag: string;
      properties: { reported: Record<string, unknown> };
    };
    const replaced = await dotnet(
      'PUT',
      `/twins/${deviceId}`,
      {
        ...read,
        tags: { site: 'osaka' },
        properties: { desired: { interval: 60 }, reported: { ...read.properties.reported, x: 1 } },
      },
      `"${read.etag}"`,
    );
    expect(replaced.status).toBe(200);
    const after = replaced.json as {
      tags: unknown;
      properties: { desired: Record<string, unknown>; reported: Record<string, unknown> };
    };
    expect(after.tags).toEqual({ site: 'osaka' });
    expect(after.properties.desired['interval']).toBe(60);
    expect(after.properties.reported['x']).toBeUndefined();
    expect(after.properties.reported['$version']).toBe(read.properties.reported['$version']);

    // Query.cs 123-136, QueryResult.cs 32-43: a bare array and x-ms-item-type exactly "Twin".
    const query = await dotnet('POST', '/devices/query', {
      query: `SELECT * FROM devices WHERE deviceId = '${deviceId}'`,
    });
    expect(query.status).toBe(200);
    expect(query.headers['x-ms-item-type']).toBe('Twin');
    expect(Array.isArray(query.json)).toBe(true);
    expect((query.json as { deviceId: string }[]).map((t) => t.deviceId)).toEqual([deviceId]);
  });
});
