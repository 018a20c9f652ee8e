import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConnectionFile } from './connection-file.ts';
import { startEmulator } from './emulator.ts';

describe('connection.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connection-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when the emulator writes its data dir, then its connection.json reads back as the schema says', async () => {
    const emulator = await startEmulator({
      dataDir: join(dir, 'hub'),
      httpsPort: 0,
      mqttPort: 0,
      consumerGroups: ['twinscope'],
    });
    try {
      const connection = readConnectionFile(emulator.connectionFile!);
      expect(connection).toMatchObject({
        hostName: '127.0.0.1',
        httpsPort: emulator.httpsPort,
        mqttPort: emulator.mqttPort,
        amqpsPort: emulator.amqpsPort,
        serviceConnectionString: emulator.serviceConnectionString,
        caCertFile: emulator.tls.caCertFile,
        throttle: null,
        eventHubs: {
          amqpPort: emulator.events.amqpPort,
          consumerGroups: ['$Default', 'twinscope'],
        },
      });
    } finally {
      await emulator.close();
    }
  });

  it('when the file is missing, not JSON, or not the emulator’s, then the error names the file and what is wrong', () => {
    const missing = join(dir, 'none.json');
    expect(() => readConnectionFile(missing)).toThrow(`${missing} does not exist`);
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{not json');
    expect(() => readConnectionFile(garbage)).toThrow(`${garbage} is not JSON`);
    const partial = join(dir, 'partial.json');
    writeFileSync(partial, JSON.stringify({ hostName: 'localhost', httpsPort: 'x' }));
    expect(() => readConnectionFile(partial)).toThrow(
      new RegExp(`^${partial} is not the emulator's connection\\.json: .*httpsPort: .*mqttPort`),
    );
  });
});
