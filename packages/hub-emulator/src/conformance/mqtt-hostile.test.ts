import { describe, expect, it } from 'vitest';
import { createSasToken } from '../auth/sas.ts';
import { uniqueId, useHub } from './hub.ts';
import { rawMqttClient, rawMqttSocket } from './mqtt-raw.ts';

/** Resolves true if the server closes the socket within `ms`. */
const closesWithin = (closed: Promise<void>, ms: number) =>
  Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

describe('MQTT: a hostile client cannot make the hub buffer or keep what it should not', () => {
  const hub = useHub();

  async function moduleToken(seconds: number, edit: (token: string) => string = (t) => t) {
    const deviceId = uniqueId('hostile');
    await hub.registry.create({ deviceId });
    await hub.registry.addModule({ deviceId, moduleId: 'm' });
    const key = (await hub.registry.getModule(deviceId, 'm')).responseBody.authentication!
      .symmetricKey!.primaryKey!;
    const token = createSasToken(
      `${hub.emulator.hostName}:${hub.emulator.mqttPort}/devices/${deviceId}/modules/m`,
      key,
      Math.floor(Date.now() / 1000) + seconds,
    );
    return { clientId: `${deviceId}/m`, token: edit(token) };
  }

  const connect = ({ clientId, token }: { clientId: string; token: string }) =>
    rawMqttClient(hub.emulator, clientId, token, true);

  it('when a client announces a 268 MB packet before CONNECT, then the hub closes it at the header', async () => {
    const client = await rawMqttSocket(hub.emulator);
    // CONNECT with the largest remaining length MQTT can express, then a body that keeps coming.
    client.socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    let sent = 0;
    while (!client.isClosed && sent < 64 * 1024 * 1024) {
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      sent += chunk.length;
      if (!client.socket.write(chunk))
        await Promise.race([
          new Promise((resolve) => client.socket.once('drain', resolve)),
          client.closed,
        ]);
    }
    expect(await closesWithin(client.closed, 2000)).toBe(true);
    // Closed long before the announced 268 MB could have been taken in.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('when the first packet is not CONNECT, then the hub closes the connection', async () => {
    const client = await rawMqttSocket(hub.emulator);
    client.send({ cmd: 'pingreq' });
    expect(await closesWithin(client.closed, 2000)).toBe(true);
  });

  it('when a connected client announces more than 256 KB, then it is closed before the body is sent', async () => {
    const client = await connect(await moduleToken(600));
    expect(await client.next('connack')).toMatchObject({ returnCode: 0 });
    // A PUBLISH header announcing 1 MB, and nothing behind it.
    client.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x40]));
    expect(await closesWithin(client.closed, 2000)).toBe(true);
  });

  it('when a token carries a second expiry under another name, then CONNECT is refused', async () => {
    // Read with a regex, `xse=` before `se=` was taken for the expiry: a token for life.
    const client = await connect(
      await moduleToken(3, (t) => t.replace('&se=', '&xse=99999999999&se=')),
    );
    expect(await client.next('connack')).toMatchObject({ returnCode: 4 });
  });

  it('when a 3-second token expires, then the hub closes the connection it opened', async () => {
    const client = await connect(await moduleToken(3));
    expect(await client.next('connack')).toMatchObject({ returnCode: 0 });
    expect(await closesWithin(client.closed, 5000)).toBe(true);
  });
});
