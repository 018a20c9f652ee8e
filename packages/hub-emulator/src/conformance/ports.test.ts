import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../emulator.ts';
import { sdkRegistry, uniqueId } from './hub.ts';

/** A port something else listens on. */
async function occupied(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

describe('Emulator: ports it prefers and ports it falls back to', () => {
  const servers: Server[] = [];
  const emulators: RunningEmulator[] = [];
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
    for (const server of servers.splice(0)) server.close();
  });
  const busy = async () => {
    const taken = await occupied();
    servers.push(taken.server);
    return taken.port;
  };

  it('when its preferred ports are taken, then it listens on the next ones and its connection strings say so', async () => {
    const [https, mqtt, amqps] = [await busy(), await busy(), await busy()];
    const emulator = await startEmulator({
      inMemory: true,
      httpsPort: [https, 0],
      mqttPort: [mqtt, 0],
      amqpsPort: [amqps, 0],
    });
    emulators.push(emulator);
    expect([emulator.httpsPort, emulator.mqttPort, emulator.amqpsPort]).not.toContain(https);
    expect(emulator.mqttPort).not.toBe(mqtt);
    expect(emulator.amqpsPort).not.toBe(amqps);
    expect(emulator.serviceConnectionString).toContain(`HostName=127.0.0.1:${emulator.httpsPort};`);
    const registry = sdkRegistry(emulator.serviceConnectionString, emulator.tls.caCert);
    const deviceId = uniqueId('fallback');
    await registry.create({ deviceId });
    expect((await registry.get(deviceId)).responseBody.deviceId).toBe(deviceId);
  });

  it('when its only AMQP port is taken, then it does not start and leaves no port of its own bound', async () => {
    const free = await busy();
    servers.pop()!.close();
    const amqps = await busy();
    await expect(
      startEmulator({ inMemory: true, httpsPort: free, mqttPort: 0, amqpsPort: amqps }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // The HTTPS listener it had opened is closed again: the port can be bound.
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(free, '127.0.0.1', resolve);
    });
    servers.push(again);
  });
});
