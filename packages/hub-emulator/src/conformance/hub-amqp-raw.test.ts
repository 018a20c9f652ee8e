import { randomUUID } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import rhea, { type Connection, type Message, type Sender } from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import { createSasToken } from '../auth/sas.ts';
import { uniqueId, useHub } from './hub.ts';

/**
 * The hub's AMQP endpoint (amqps, the devices' and service's port) frame by frame, as a
 * misbehaving client drives it: nothing here goes through an SDK.
 */
describe('Emulator: the device AMQP endpoint refuses bad input with AMQP errors and keeps serving', () => {
  const hub = useHub();
  const open: Connection[] = [];
  afterEach(() => {
    for (const connection of open.splice(0)) connection.close();
  });

  async function connect(): Promise<Connection> {
    const connection = rhea.create_container().connect({
      host: 'localhost',
      port: hub.emulator.amqpsPort,
      transport: 'tls',
      ca: hub.emulator.tls.caCert,
      reconnect: false,
      idle_time_out: 0,
    } as never);
    open.push(connection);
    await new Promise<void>((resolve, reject) => {
      connection.once('connection_open', () => resolve());
      connection.once('disconnected', (c) => reject(c.error ?? new Error('disconnected')));
    });
    return connection;
  }

  /** A device token for `deviceId` signed with its primary key. */
  const deviceToken = (deviceId: string) =>
    createSasToken(
      `${hub.emulator.hostName}/devices/${deviceId}`,
      hub.emulator.registry.find(deviceId)!.authentication.symmetricKey.primaryKey!,
      Math.floor(Date.now() / 1000) + 600,
    );

  /** The $cbs link pair of each connection: one, as the IoT SDKs keep it. */
  const cbsLinks = new WeakMap<
    Connection,
    Promise<{ sender: Sender; replies: Map<unknown, (message: Message) => void> }>
  >();
  const cbsOf = (connection: Connection) => {
    let links = cbsLinks.get(connection);
    if (!links) {
      const replies = new Map<unknown, (message: Message) => void>();
      const receiver = connection.open_receiver({ source: { address: '$cbs' } });
      receiver.on('message', (c) => replies.get(c.message?.correlation_id)?.(c.message!));
      const sender = connection.open_sender({ target: { address: '$cbs' } });
      links = new Promise((resolve) => sender.once('sendable', () => resolve({ sender, replies })));
      cbsLinks.set(connection, links);
    }
    return links;
  };

  /** Puts a token on $cbs as the IoT SDKs do (the reply comes on the $cbs receiver). */
  async function putToken(connection: Connection, audience: string, token: string) {
    const { sender, replies } = await cbsOf(connection);
    const messageId = randomUUID();
    const reply = new Promise<Message>((resolve) => replies.set(messageId, resolve));
    sender.send({
      message_id: messageId,
      to: '$cbs',
      application_properties: {
        operation: 'put-token',
        name: audience,
        type: 'servicebus.windows.net:sastoken',
      },
      body: token,
    });
    const props = (await reply).application_properties as Record<string, unknown>;
    return {
      status: Number(props['status-code']),
      description: String(props['status-description']),
    };
  }

  /** Opens a sender to `address`: sendable, or the error it was closed with. */
  function attachSender(connection: Connection, address: string) {
    const sender = connection.open_sender({ target: { address } });
    return new Promise<{ sender?: typeof sender; error?: { condition: string } }>((resolve) => {
      sender.once('sendable', () => resolve({ sender }));
      sender.once('sender_close', (c) =>
        resolve({ error: c.sender?.error as { condition: string } }),
      );
    });
  }

  const telemetryCount = (deviceId: string, from: number) =>
    hub.emulator.changes
      .since(from)
      .filter((e) => e.source === 'Telemetry' && e.deviceId === deviceId).length;

  async function newDevice() {
    const deviceId = uniqueId('raw');
    await hub.registry.create({ deviceId });
    return deviceId;
  }

  it('when a token is forged, or a link names another device or an unknown address, then it is refused and nothing is recorded', async () => {
    const mine = await newDevice();
    const theirs = await newDevice();
    const from = hub.emulator.registry.sequenceNumber;
    const connection = await connect();
    const forged = await putToken(
      connection,
      `${hub.emulator.hostName}/devices/${mine}`,
      deviceToken(mine).replace(/sig=[^&]+/, 'sig=AAAA'),
    );
    expect(forged.status).toBe(401);
    expect(
      (await attachSender(connection, `/devices/${mine}/messages/events`)).error?.condition,
    ).toBe('amqp:unauthorized-access');

    const granted = await putToken(
      connection,
      `${hub.emulator.hostName}/devices/${mine}`,
      deviceToken(mine),
    );
    expect(granted).toEqual({ status: 200, description: 'OK' });
    const other = await attachSender(connection, `/devices/${theirs}/messages/events`);
    expect(other.error?.condition).toBe('amqp:unauthorized-access');
    const unknown = await attachSender(connection, `/devices/${mine}/no/such/thing`);
    expect(unknown.error?.condition).toBe('amqp:not-allowed');
    expect(telemetryCount(mine, from) + telemetryCount(theirs, from)).toBe(0);
  });

  it('when a message is over 256 KB, then it is rejected with message-size-exceeded and the link still carries the next', async () => {
    const deviceId = await newDevice();
    const from = hub.emulator.registry.sequenceNumber;
    const connection = await connect();
    await putToken(
      connection,
      `${hub.emulator.hostName}/devices/${deviceId}`,
      deviceToken(deviceId),
    );
    const { sender } = await attachSender(connection, `/devices/${deviceId}/messages/events`);
    const outcome = (body: Buffer) =>
      new Promise<{ outcome: string; condition?: string }>((resolve) => {
        const delivery = sender!.send({ body: rhea.message.data_section(body) });
        const settled =
          (name: string) => (c: { delivery?: unknown; sender?: { error?: unknown } }) => {
            if (c.delivery !== delivery) return;
            const remote = (delivery as { remote_state?: { error?: { condition: string } } })
              .remote_state;
            resolve({
              outcome: name,
              ...(remote?.error ? { condition: remote.error.condition } : {}),
            });
          };
        sender!.on('accepted', settled('accepted'));
        sender!.on('rejected', settled('rejected'));
      });
    expect(await outcome(Buffer.alloc(257 * 1024, 1))).toEqual({
      outcome: 'rejected',
      condition: 'amqp:link:message-size-exceeded',
    });
    expect(await outcome(Buffer.from('small'))).toEqual({ outcome: 'accepted' });
    expect(telemetryCount(deviceId, from)).toBe(1);
  });

  it('when a client sends garbage instead of AMQP frames, then its connection is closed and the hub serves the next one', async () => {
    const garbage = await new Promise<boolean>((resolve) => {
      const socket = tlsConnect(
        { host: 'localhost', port: hub.emulator.amqpsPort, ca: hub.emulator.tls.caCert },
        () => {
          // A valid AMQP header, then a frame whose size field says 4 GB and a bogus body.
          socket.write(Buffer.from('AMQP\x00\x01\x00\x00', 'binary'));
          socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]));
        },
      );
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(true));
      socket.resume();
    });
    expect(garbage).toBe(true);
    const deviceId = await newDevice();
    const connection = await connect();
    expect(
      await putToken(
        connection,
        `${hub.emulator.hostName}/devices/${deviceId}`,
        deviceToken(deviceId),
      ),
    ).toEqual({ status: 200, description: 'OK' });
  });
});
