import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import mqttTransport from 'azure-iot-device-mqtt';
import { registryFor } from '@twinscope/hub-connection';
import type { ConnectionFile } from '../connection-file.ts';
import { spawnEmulator, type SpawnedEmulator } from '../spawn.ts';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

async function portsAreFree(ports: number[]): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}

// The SDKs dial 443 (service REST, every WebSocket transport), 8883 (MQTT) and 5671 (AMQP)
// when HostName carries no port, and the WebSocket transports always dial 443. These tests
// need those ports, so root (as in CI); elsewhere they are skipped, and the vitest output
// says so. One file, because test files run in parallel and only one can hold 443.
const canBindDefaultPorts = await portsAreFree([443, 8883, 5671]);
if (!canBindDefaultPorts)
  console.warn('default-port tests skipped: they need root and free ports 443, 8883 and 5671');

describe.runIf(canBindDefaultPorts)(
  'the SDKs with nothing but a connection string, on the ports they dial',
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hub-443-'));
    let hub: SpawnedEmulator | undefined;
    let connection: ConnectionFile;
    beforeAll(async () => {
      hub = await spawnEmulator({
        dataDir,
        args: [
          '--https-port',
          '443',
          '--mqtt-port',
          '8883',
          '--amqps-port',
          '5671',
          '--seed',
          'demo',
        ],
      });
      ({ connection } = hub);
    });
    afterAll(async () => {
      await hub?.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });

    it.each([
      ['Mqtt', mqttTransport.Mqtt],
      ['Amqp', amqpTransport.Amqp],
      ['MqttWs', mqttTransport.MqttWs],
      ['AmqpWs', amqpTransport.AmqpWs],
    ] as const)(
      'when a device app connects over %s with a bare HostName, then it reaches the emulator and is connected',
      async (_name, transport) => {
        const registry = registryFor(connection.serviceConnectionString, {
          ca: readFileSync(connection.caCertFile, 'utf8'),
        });
        const deviceId = `default-port-${_name.toLowerCase()}`;
        const { responseBody } = await registry.create({ deviceId });
        const key = responseBody.authentication!.symmetricKey!.primaryKey!;
        const client = deviceSdk.Client.fromConnectionString(
          `HostName=${connection.hostName};DeviceId=${deviceId};SharedAccessKey=${key}`,
          transport,
        );
        await client.setOptions({ ca: readFileSync(connection.caCertFile, 'utf8') });
        await client.open();
        try {
          await client.sendEvent(new deviceSdk.Message('on the default port'));
          expect((await registry.get(deviceId)).responseBody.connectionState).toBe('Connected');
        } finally {
          await client.close();
        }
      },
    );

    it('when NODE_EXTRA_CA_CERTS names its CA, then a program with Registry.fromConnectionString works', async () => {
      {
        // The default host name has a dot and no port: what every SDK's parser takes.
        expect(connection.serviceConnectionString).toMatch(
          /^HostName=127\.0\.0\.1;SharedAccessKeyName=iothubowner;/,
        );
        const program = `
        const { Registry } = require('azure-iothub');
        const registry = Registry.fromConnectionString(process.argv[1]);
        registry.list()
          .then((r) => registry.getTwin(r.responseBody[0].deviceId).then((t) => console.log(r.responseBody.length, t.responseBody.tags.site)))
          .catch((e) => { console.error(e.constructor.name, e.message); process.exit(1); });`;
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ['-e', program, connection.serviceConnectionString],
          {
            cwd: packageDir,
            env: { ...process.env, NODE_EXTRA_CA_CERTS: connection.caCertFile },
          },
        );
        // 12 seeded devices, and those the tests above created.
        expect(stdout.trim()).toMatch(/^1[26] berlin$/);
      }
    });
  },
);
