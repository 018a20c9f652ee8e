import { createHmac, randomUUID } from 'node:crypto';
import rhea, { type Connection, type Message } from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestTokenIssuer } from '../auth/test-issuer.ts';
import { useHub } from './hub.ts';

/** An Event Hubs SAS token as @azure/core-amqp makes one (the key's UTF-8 bytes sign it). */
function ehToken(audience: string, keyName: string, key: string, expiresInSeconds = 3600): string {
  const sr = encodeURIComponent(audience);
  const se = Math.floor(Date.now() / 1000) + expiresInSeconds;
  const sig = createHmac('sha256', Buffer.from(key, 'utf8'))
    .update(`${sr}\n${se}`)
    .digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${keyName}`;
}

const open: Connection[] = [];
afterEach(() => {
  for (const connection of open.splice(0)) connection.close();
});

/** A bare AMQP client: what a misbehaving or minimal consumer sends, frame by frame. */
async function connect(port: number): Promise<Connection> {
  const container = rhea.create_container();
  const connection = container.connect({
    host: '127.0.0.1',
    port,
    username: 'service',
    reconnect: false,
    idle_time_out: 0,
  } as never);
  open.push(connection);
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve());
    connection.once('disconnected', (context) =>
      reject(context.error ?? new Error('disconnected')),
    );
  });
  return connection;
}

/** Sends a put-token on $cbs (a SAS token, or an Entra token as `jwt`); answers the reply. */
async function putToken(
  connection: Connection,
  audience: string,
  token: string,
  type = 'servicebus.windows.net:sastoken',
): Promise<{ status: number; description: string }> {
  const replyTo = `cbs-${randomUUID()}`;
  const receiver = connection.open_receiver({
    name: replyTo,
    source: { address: '$cbs' },
    target: { address: replyTo },
  });
  const sender = connection.open_sender({ target: { address: '$cbs' } });
  await new Promise((resolve) => sender.once('sendable', resolve));
  const messageId = randomUUID();
  const reply = new Promise<Message>((resolve) =>
    receiver.on('message', (context) => {
      if (context.message?.correlation_id === messageId) resolve(context.message);
    }),
  );
  sender.send({
    message_id: messageId,
    reply_to: replyTo,
    to: '$cbs',
    application_properties: {
      operation: 'put-token',
      name: audience,
      type,
    },
    body: token,
  });
  const message = await reply;
  const props = message.application_properties as Record<string, unknown>;
  return { status: Number(props['status-code']), description: String(props['status-description']) };
}

/** Attaches a receiver and answers how the emulator ended it, or the first message. */
function attach(
  connection: Connection,
  address: string,
  filter?: string,
): Promise<{ error?: { condition: string; description: string }; message?: Message }> {
  return new Promise((resolve) => {
    const receiver = connection.open_receiver({
      source: {
        address,
        ...(filter
          ? {
              filter: {
                'apache.org:selector-filter:string': rhea.filter.selector(filter)['jms-selector'],
              },
            }
          : {}),
      },
      credit_window: 10,
    });
    receiver.once('receiver_close', (context) => {
      const error = context.receiver?.error as
        { condition: string; description: string } | undefined;
      resolve(error ? { error } : {});
    });
    receiver.once('message', (context) => resolve({ message: context.message! }));
  });
}

describe('Emulator: the Event Hubs-compatible endpoint refuses bad requests with AMQP errors and keeps serving', () => {
  const hub = useHub({ seed: 'demo', routes: ['TwinChangeEvents'] });
  const service = () => hub.emulator.policies.find((p) => p.keyName === 'service')!;
  const audience = (path: string) => `sb://localhost:${hub.emulator.events.amqpPort}/${path}`;
  const name = () => hub.emulator.events.name;

  it('when tokens are expired, forged or for another path, then put-token answers 401 and receivers are refused', async () => {
    const connection = await connect(hub.emulator.events.amqpPort);
    const partition = `${name()}/ConsumerGroups/$Default/Partitions/0`;
    const expired = await putToken(
      connection,
      audience(partition),
      ehToken(audience(partition), 'service', service().primaryKey, -60),
    );
    expect(expired).toEqual({ status: 401, description: 'the token has expired' });
    const forged = await putToken(
      connection,
      audience(partition),
      ehToken(audience(partition), 'service', 'not-the-key'),
    );
    expect(forged.status).toBe(401);
    const elsewhere = await putToken(
      connection,
      audience(partition),
      ehToken(
        audience(`${name()}/ConsumerGroups/$Default/Partitions/1`),
        'service',
        service().primaryKey,
      ),
    );
    expect(elsewhere).toMatchObject({
      status: 401,
      description: expect.stringMatching(/does not cover/),
    });
    const deviceOnly = await putToken(
      connection,
      audience(partition),
      ehToken(
        audience(partition),
        'device',
        hub.emulator.policies.find((p) => p.keyName === 'device')!.primaryKey,
      ),
    );
    expect(deviceOnly).toMatchObject({
      status: 401,
      description: expect.stringMatching(/ServiceConnect/),
    });
    const refused = await attach(connection, partition);
    expect(refused.error?.condition).toBe('amqp:unauthorized-access');
  });

  it('when the entity, group or partition is unknown, or the filter malformed, then the link is refused with a reason', async () => {
    const connection = await connect(hub.emulator.events.amqpPort);
    const ok = await putToken(
      connection,
      audience(name()),
      ehToken(audience(name()), 'service', service().primaryKey),
    );
    expect(ok.status).toBe(200);
    const cases: [string, string | undefined, string, RegExp][] = [
      ['nohub/ConsumerGroups/$Default/Partitions/0', undefined, 'amqp:not-found', /nohub/],
      [`${name()}/ConsumerGroups/ghost/Partitions/0`, undefined, 'amqp:not-found', /ghost/],
      [
        `${name()}/ConsumerGroups/$Default/Partitions/7`,
        undefined,
        'amqp:not-found',
        /Partition '7'/,
      ],
      [
        `${name()}/ConsumerGroups/$Default/Partitions/0`,
        "amqp.annotation.x-opt-offset > 'soon'",
        'amqp:invalid-field',
        /not a number/,
      ],
      [
        `${name()}/ConsumerGroups/$Default/Partitions/0`,
        'DROP TABLE events',
        'amqp:invalid-field',
        /unsupported filter/,
      ],
    ];
    for (const [address, filter, condition, description] of cases) {
      const result = await attach(connection, address, filter);
      expect(result.error?.condition, address).toBe(condition);
      expect(result.error?.description).toMatch(description);
    }
    // Publishing to the built-in endpoint is not a thing.
    const sender = connection.open_sender({ target: { address: `${name()}/Partitions/0` } });
    const closed = await new Promise<string>((resolve) =>
      sender.once('sender_close', (context) => resolve(String(context.sender?.error?.condition))),
    );
    expect(closed).toBe('amqp:not-allowed');
  });

  it('when a consumer vanishes mid-stream, then the endpoint carries on; an enqueued-time filter starts after that time', async () => {
    const first = await connect(hub.emulator.events.amqpPort);
    const path = `${name()}/ConsumerGroups/$Default/Partitions/0`;
    await putToken(
      first,
      audience(name()),
      ehToken(audience(name()), 'service', service().primaryKey),
    );
    void attach(first, path, "amqp.annotation.x-opt-offset > '-1'");
    (first as unknown as { socket: { destroy(): void } }).socket.destroy();

    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Twin changes on several devices, so partition 0 sees at least one.
    for (const deviceId of [
      'berlin-b1-meter-03',
      'berlin-b1-hvac-02',
      'lyon-north-gateway-07',
      'toronto-hq-hvac-12',
      'berlin-b2-camera-06',
    ]) {
      const twin = (await hub.registry.getTwin(deviceId)).responseBody;
      await hub.registry.updateTwin(deviceId, { tags: { afterVanish: true } }, twin.etag);
    }
    const info = hub.emulator.events.store.info(0);
    expect(info.isEmpty).toBe(false);
    const second = await connect(hub.emulator.events.amqpPort);
    await putToken(
      second,
      audience(name()),
      ehToken(audience(name()), 'service', service().primaryKey),
    );
    const { message } = await attach(
      second,
      path,
      `amqp.annotation.x-opt-enqueued-time > '${before}'`,
    );
    const annotations = message?.message_annotations as Record<string, unknown>;
    expect((annotations['x-opt-enqueued-time'] as Date).getTime()).toBeGreaterThan(before);
    const body = JSON.parse(Buffer.from((message?.body as { content: Buffer }).content).toString());
    expect(body.tags).toEqual({ afterVanish: true });
  });
});

describe('Emulator: Entra tokens on the events endpoint (put-token type jwt)', () => {
  const RECEIVER = '77777777-7777-4777-8777-777777777777';
  const issuer = createTestTokenIssuer({
    [RECEIVER]: ['Azure Event Hubs Data Receiver'],
    '88888888-8888-4888-8888-888888888888': ['IoT Hub Data Reader'],
  });
  const hub = useHub({ entra: issuer.access });

  const putJwt = (connection: Connection, audience: string, token: string) =>
    putToken(connection, audience, token, 'jwt');

  it('when the principal holds an Event Hubs receive role it may read; others, and tokens for another service, are refused', async () => {
    const connection = await connect(hub.emulator.events.amqpPort);
    const path = `${hub.emulator.events.name}/ConsumerGroups/$Default/Partitions/0`;
    const audience = `sb://localhost:${hub.emulator.events.amqpPort}/${path}`;
    const eventHubs = 'https://eventhubs.azure.net';
    expect(
      await putJwt(connection, audience, issuer.token({ oid: RECEIVER, aud: eventHubs })),
    ).toEqual({
      status: 200,
      description: 'OK',
    });
    const reader = await putJwt(
      connection,
      audience,
      issuer.token({ oid: '88888888-8888-4888-8888-888888888888', aud: eventHubs }),
    );
    expect(reader).toMatchObject({
      status: 401,
      description: expect.stringMatching(/Data Receiver/),
    });
    const forIotHub = await putJwt(connection, audience, issuer.token({ oid: RECEIVER }));
    expect(forIotHub).toMatchObject({
      status: 401,
      description: expect.stringMatching(/not for Event Hubs/),
    });
    const attached = await Promise.race([
      attach(connection, path, "amqp.annotation.x-opt-offset > '@latest'"),
      new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 300)),
    ]);
    expect(attached).toBe('open');
  });
});
