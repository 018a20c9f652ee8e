import { randomUUID } from 'node:crypto';
import rhea, { type Connection, type EventContext } from 'rhea';
import { describe, expect, it } from 'vitest';
import { serviceClientFor } from '@twinscope/hub-connection';
import { createSasToken } from '../auth/sas.ts';
import {
  ACCEPTED,
  BATCH_FORMAT,
  outcomeName,
  REJECTED,
  RELEASED,
  useAmqpWire,
} from './amqp-wire.ts';
import { deviceCertificate } from './device-certificates.ts';
import { uniqueId, useHub } from './hub.ts';

/**
 * The AMQP endpoint as Microsoft's .NET and C SDKs speak to it, frame for frame, each step
 * naming the SDK source it follows. Nothing here runs those SDKs (no .NET or C toolchain on
 * these machines); the wire facts were read in their sources:
 * - .NET: azure-iot-sdk-csharp main (v1: Microsoft.Azure.Devices.Client 1.42.3,
 *   Microsoft.Azure.Devices 1.41.0) with Microsoft.Azure.Amqp 2.6.9;
 * - C: azure-iot-sdk-c main with azure-uamqp-c.
 */

describe('Emulator: AMQP as the .NET and C SDKs speak it', () => {
  const hub = useHub();
  const host = () => hub.emulator.hostName;
  const token = (resource: string, key: string, keyName?: string) =>
    createSasToken(resource, key, Math.floor(Date.now() / 1000) + 600, keyName);
  const deviceKey = (deviceId: string, moduleId?: string) =>
    hub.emulator.registry.find(deviceId, moduleId)!.authentication.symmetricKey.primaryKey!;
  const owner = () => hub.emulator.policies.find((p) => p.keyName === 'iothubowner')!;

  const { connect, connectWebSocket, opened, outcomeOf, next, dispose, dotnetCbs } =
    useAmqpWire(hub);

  const telemetryOf = (deviceId: string, from: number) =>
    hub.emulator.changes
      .since(from)
      .filter((e) => e.source === 'Telemetry' && e.deviceId === deviceId);

  describe('.NET (Microsoft.Azure.Devices.Client over AMQP: no SASL, absolute addresses)', () => {
    /** Link addresses as .NET builds them (CommonConstants.cs 44-52, AmqpIotSession.cs 350-363). */
    const absolute = (path: string) => `amqps://${host()}:5671${path}`;
    const linkProperties = (channel?: string) => ({
      'com.microsoft:client-version': 'Microsoft.Azure.Devices.Client/1.42.3',
      'com.microsoft:api-version': '2020-09-30',
      ...(channel ? { 'com.microsoft:channel-correlation-id': channel } : {}),
    });

    it("when a module connects as the how-to's ModuleClient does, then its put-token, telemetry, twin (subscribe, get, reported patch, desired push) and methods all work on absolute addresses", async () => {
      const deviceId = uniqueId('dotnet');
      await hub.registry.create({ deviceId });
      await hub.registry.addModule({ deviceId, moduleId: 'sensor' });
      const base = `/devices/${deviceId}/modules/sensor`;
      const connection = await connect();
      const putToken = await dotnetCbs(connection);
      // DeviceIdentity.cs 48-60: the audience has no scheme; the token's sr is the same path.
      const audience = `${host()}${base}`;
      const reply = await putToken(audience, token(audience, deviceKey(deviceId, 'sensor')));
      expect(reply['status-code']).toBe(200);

      const from = hub.emulator.registry.sequenceNumber;
      const telemetry = await opened(
        connection.open_sender({
          name: 'TelemetrySenderLink',
          target: { address: absolute(`${base}/messages/events`) },
          source: { address: deviceId },
          properties: linkProperties(),
        }),
      );
      // The hub says how large a message may be: 256 KB, as IoT Hub does.
      expect(telemetry.max_message_size).toBe(256 * 1024);
      expect(
        await outcomeOf(telemetry, {
          message_id: 'dotnet-1',
          application_properties: { level: 'info' },
          body: rhea.message.data_section(Buffer.from('{"t":21}')),
        }),
      ).toBe('accepted');
      expect(telemetryOf(deviceId, from).map((e) => e.moduleId)).toEqual(['sensor']);

      // Twin: both links share a channel id; requests pre-settled (AmqpIotSession.cs 125-188).
      const channel = `twin:${randomUUID()}`;
      const twinReceiver = await opened(
        connection.open_receiver({
          name: 'TwinReceiverLink',
          source: { address: absolute(`${base}/twin`) },
          target: { address: deviceId },
          properties: linkProperties(channel),
          snd_settle_mode: 1,
        }),
      );
      const twinSender = await opened(
        connection.open_sender({
          name: 'TwinSenderLink',
          target: { address: absolute(`${base}/twin`) },
          source: { address: deviceId },
          properties: linkProperties(channel),
          snd_settle_mode: 1,
        }),
      );
      // AmqpIotSendingLink.cs 184-243: correlation ids "Put…", "Get…", "Patch…"; the status
      // comes back as the message annotation `status` (AmqpIotReceivingLink.cs 250-336).
      const twinCall = async (operation: string, resource?: string, body?: unknown) => {
        const correlationId = `${operation[0]}${operation.slice(1).toLowerCase()}${randomUUID()}`;
        const response = next(twinReceiver, (m) => m.correlation_id === correlationId);
        twinSender.send({
          correlation_id: correlationId,
          message_annotations: {
            operation,
            ...(resource ? { resource } : {}),
            version: null,
          },
          body:
            body === undefined
              ? undefined
              : rhea.message.data_section(Buffer.from(JSON.stringify(body))),
        });
        const message = (await response).message!;
        const annotations = message.message_annotations as Record<string, unknown>;
        const raw = Buffer.isBuffer(message.body?.content) ? message.body.content.toString() : '';
        return { status: annotations['status'], body: raw ? JSON.parse(raw) : undefined };
      };
      expect((await twinCall('PUT', '/notifications/twin/properties/desired')).status).toBe(200);
      const got = await twinCall('GET');
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ desired: { $version: 1 }, reported: { $version: 1 } });
      expect((await twinCall('PATCH', '/properties/reported', { firmware: '1.2' })).status).toBe(
        204,
      );
      const push = next(twinReceiver, (m) => m.correlation_id === undefined);
      const twin = (await hub.registry.getModuleTwin(deviceId, 'sensor')).responseBody;
      await hub.registry.updateModuleTwin(
        deviceId,
        'sensor',
        { properties: { desired: { interval: 5 } } },
        twin.etag,
      );
      const pushed = (await push).message!;
      expect(JSON.parse(pushed.body.content.toString())).toMatchObject({ interval: 5 });

      // Methods: a uuid correlation id in, `IoThub-status` out (AmqpIotMessageConverter.cs 291-332).
      const methodChannel = `methods:${randomUUID()}`;
      const requests = await opened(
        connection.open_receiver({
          name: 'MethodsReceiverLink',
          source: { address: absolute(`${base}/methods/deviceBound`) },
          target: { address: deviceId },
          properties: linkProperties(methodChannel),
          snd_settle_mode: 1,
        }),
      );
      const responses = await opened(
        connection.open_sender({
          name: 'MethodsSenderLink',
          target: { address: absolute(`${base}/methods/deviceBound`) },
          source: { address: deviceId },
          properties: linkProperties(methodChannel),
          snd_settle_mode: 1,
        }),
      );
      requests.on('message', (context) => {
        const request = context.message!;
        responses.send({
          correlation_id: request.correlation_id,
          application_properties: { 'IoThub-status': rhea.types.wrap_int(200) },
          body: rhea.message.data_section(Buffer.from('{"rebooted":true}')),
        });
      });
      const invoked = await hub.raw.send(
        'POST',
        `/twins/${deviceId}/modules/sensor/methods?api-version=2021-04-12`,
        { body: JSON.stringify({ methodName: 'reboot', responseTimeoutInSeconds: 10 }) },
      );
      expect(invoked.json).toEqual({ status: 200, payload: { rebooted: true } });
    });

    it('when the module connects over AMQP over WebSockets, then its CBS and its absolute addresses work as over TLS', async () => {
      // AmqpIotTransport.cs 85-218: only the socket differs; no SASL, the same $cbs and the
      // same amqps://host:5671 addresses inside the WebSocket.
      const deviceId = uniqueId('dotnet-ws');
      await hub.registry.create({ deviceId });
      await hub.registry.addModule({ deviceId, moduleId: 'sensor' });
      const connection = await connectWebSocket();
      const putToken = await dotnetCbs(connection);
      const audience = `${host()}/devices/${deviceId}/modules/sensor`;
      expect(
        (await putToken(audience, token(audience, deviceKey(deviceId, 'sensor'))))['status-code'],
      ).toBe(200);
      const from = hub.emulator.registry.sequenceNumber;
      const telemetry = await opened(
        connection.open_sender({
          name: 'TelemetrySenderLink',
          target: { address: absolute(`/devices/${deviceId}/modules/sensor/messages/events`) },
          source: { address: deviceId },
          properties: linkProperties(),
        }),
      );
      expect(
        await outcomeOf(telemetry, {
          message_id: 'over-websockets',
          body: rhea.message.data_section(Buffer.from('{"ws":true}')),
        }),
      ).toBe('accepted');
      expect(telemetryOf(deviceId, from).map((e) => e.message?.properties['$.mid'])).toEqual([
        'over-websockets',
      ]);
    });

    it('when the service client sends a message and the device completes, rejects or abandons it unsettled, then each disposition gets the settled, accepted reply .NET waits for, and feedback completes the same way', async () => {
      const deviceId = uniqueId('dotnet-c2d');
      await hub.registry.create({ deviceId });
      // ServiceClient: no SASL, CBS for the whole hub (IotHubConnection.cs 302-329, 545-546).
      const service = await connect();
      const servicePutToken = await dotnetCbs(service);
      const policy = owner();
      expect(
        (
          await servicePutToken(
            `amqps://${host()}:5671/`,
            token(host(), policy.primaryKey, policy.keyName),
          )
        )['status-code'],
      ).toBe(200);
      const send = await opened(
        service.open_sender({
          name: randomUUID().replaceAll('-', ''),
          target: { address: `amqps://${host()}:5671/messages/deviceBound` },
        }),
      );
      const ack = async (messageId: string) =>
        outcomeOf(send, {
          message_id: messageId,
          to: `/devices/${deviceId}/messages/deviceBound`,
          application_properties: { 'iothub-ack': 'full' },
          body: rhea.message.data_section(Buffer.from(messageId)),
        });
      for (const id of ['complete-me', 'reject-me', 'abandon-me'])
        expect(await ack(id)).toBe('accepted');

      const device = await connect();
      const putToken = await dotnetCbs(device);
      const audience = `${host()}/devices/${deviceId}`;
      expect((await putToken(audience, token(audience, deviceKey(deviceId))))['status-code']).toBe(
        200,
      );
      // AmqpIotSession.cs 83: rcv-settle-mode second; the client disposes each message itself.
      const c2d = await opened(
        device.open_receiver({
          name: 'TelemetryReceiverLink',
          source: { address: `amqps://${host()}:5671/devices/${deviceId}/messages/deviceBound` },
          target: { address: deviceId },
          rcv_settle_mode: 1,
          autoaccept: false,
          credit_window: 50,
        }),
      );
      const [first, second, third] = await new Promise<EventContext[]>((resolve) => {
        const got: EventContext[] = [];
        c2d.on('message', (context) => {
          got.push(context);
          if (got.length === 3) resolve(got);
        });
      });
      // AmqpIotOutcome.cs 26-46: anything but accepted fails the client's call.
      expect(await dispose(c2d, first!, ACCEPTED)).toBe('accepted');
      expect(await dispose(c2d, second!, REJECTED)).toBe('accepted');
      expect(await dispose(c2d, third!, RELEASED)).toBe('accepted');
      // Abandoned: offered again; complete it this time.
      const again = await next(c2d);
      expect(again.message!.message_id).toBe('abandon-me');
      expect(await dispose(c2d, again, ACCEPTED)).toBe('accepted');

      // Feedback (AmqpClientHelper.cs 44-64, 76-121): receive-settle second, completed unsettled.
      const feedback = await opened(
        service.open_receiver({
          name: randomUUID().replaceAll('-', ''),
          source: { address: `amqps://${host()}:5671/messages/serviceBound/feedback` },
          rcv_settle_mode: 1,
          autoaccept: false,
          credit_window: 1,
        }),
      );
      const batch = await next(feedback);
      expect(batch.message!.content_type).toBe('application/vnd.microsoft.iothub.feedback.json');
      expect(
        (batch.message!.message_annotations as Record<string, unknown>)['iothub-enqueuedtime'],
      ).toBeInstanceOf(Date);
      const settled = new Promise<string | undefined>((resolve) =>
        feedback.once('settled', (c) => resolve(outcomeName(c.delivery!.remote_state))),
      );
      batch.delivery!.update(false, ACCEPTED);
      expect(await settled).toBe('accepted');
    });
  });

  describe('C (iothub_client over AMQP: SASL MSSBCBS, batches, absolute addresses without a port)', () => {
    /** sasl_mssbcbs.c 58-70: the mechanism is named, with no initial response. */
    const mssbcbs = {
      MSSBCBS: () => ({ start: (done: (e?: Error, r?: Buffer) => void) => done() }),
    };

    /**
     * uamqp amqp_management.c 20-21, 806-856, cbs.c 539-617: `$cbs-sender`/`$cbs-receiver`,
     * no reply-to, a ulong message id, the request sent unsettled.
     */
    async function cCbs(connection: Connection) {
      const receiver = await opened(
        connection.open_receiver({
          name: '$cbs-receiver',
          source: { address: '$cbs' },
          target: { address: '$cbs' },
        }),
      );
      const sender = await opened(
        connection.open_sender({
          name: '$cbs-sender',
          source: { address: '$cbs' },
          target: { address: '$cbs' },
        }),
      );
      let id = 0;
      return async (audience: string, sas: string) => {
        const messageId = ++id;
        const order: string[] = [];
        const reply = next(receiver, (m) => m.correlation_id === messageId).then((c) => {
          order.push('reply');
          return c.message!;
        });
        const delivery = sender.send({
          message_id: rhea.types.wrap_ulong(messageId),
          application_properties: {
            operation: 'put-token',
            type: 'servicebus.windows.net:sastoken',
            name: audience,
          },
          body: sas,
        });
        await new Promise<void>((resolve) => {
          const settled = (context: EventContext) => {
            if (context.delivery !== delivery) return;
            sender.off('accepted', settled);
            order.push('disposition');
            resolve();
          };
          sender.on('accepted', settled);
        });
        const message = await reply;
        return { order, properties: message.application_properties as Record<string, unknown> };
      };
    }

    it('when a device authenticates with MSSBCBS and sends its telemetry as batches, then the put-token is accepted before it is answered, the attach says the largest message, and each message of a batch is its own event', async () => {
      const deviceId = uniqueId('c');
      await hub.registry.create({ deviceId });
      const connection = await connect(mssbcbs);
      const putToken = await cCbs(connection);
      // cbs_auth.c 16-17, 146-162: no scheme, no port; sastoken.c: sr not URL-encoded.
      const audience = `${host()}/devices/${deviceId}`;
      const { order, properties } = await putToken(audience, token(audience, deviceKey(deviceId)));
      expect(properties['status-code']).toBe(200);
      // amqp_management.c 240-250: a reply before the disposition fails the put-token.
      expect(order).toEqual(['disposition', 'reply']);

      const from = hub.emulator.registry.sequenceNumber;
      const telemetry = await opened(
        connection.open_sender({
          name: `link-snd-${deviceId}-${randomUUID()}`,
          source: { address: `link-snd-${deviceId}-source` },
          target: { address: `amqps://${host()}/devices/${deviceId}/messages/events` },
          properties: { 'com.microsoft:client-version': 'iothubclient/1.14.0' },
        }),
      );
      // telemetry_messenger.c 1137-1190: nothing is sent unless the peer says more than 1 KB.
      expect(telemetry.max_message_size).toBeGreaterThan(1024);
      // uamqp_messaging.c 659-725: each data section is one whole encoded message.
      const encoded = (n: number) =>
        rhea.message.encode({
          message_id: `c-${n}`,
          content_type: 'application/json',
          application_properties: { sequence: String(n) },
          body: rhea.message.data_section(Buffer.from(JSON.stringify({ n }))),
        });
      expect(
        await outcomeOf(
          telemetry,
          { body: rhea.message.data_sections([encoded(1), encoded(2), encoded(3)]) },
          BATCH_FORMAT,
        ),
      ).toBe('accepted');
      const events = telemetryOf(deviceId, from);
      expect(events.map((e) => e.message?.properties['$.mid'])).toEqual(['c-1', 'c-2', 'c-3']);
      expect(events.map((e) => e.message?.properties['sequence'])).toEqual(['1', '2', '3']);
      expect(events.map((e) => JSON.parse(e.message!.payload.toString()).n)).toEqual([1, 2, 3]);
      // One message of a batch over the limit: the batch is refused and nothing is taken.
      const big = rhea.message.encode({
        body: rhea.message.data_section(Buffer.alloc(257 * 1024, 1)),
      });
      const sequence = hub.emulator.registry.sequenceNumber;
      expect(
        await outcomeOf(
          telemetry,
          { body: rhea.message.data_sections([encoded(4), big]) },
          BATCH_FORMAT,
        ),
      ).toBe('refused');
      expect(telemetryOf(deviceId, sequence)).toEqual([]);
      // Each message under the limit, the batch over it (IoT Hub: 256 KB a batch): refused.
      const half = () =>
        rhea.message.encode({
          body: rhea.message.data_section(Buffer.alloc(150 * 1024, 2)),
        });
      expect(
        await outcomeOf(
          telemetry,
          { body: rhea.message.data_sections([half(), half()]) },
          BATCH_FORMAT,
        ),
      ).toBe('refused');
      expect(telemetryOf(deviceId, sequence)).toEqual([]);
    });

    it('when the service client logs in with SASL PLAIN and a SAS token, then it sends to a device on the absolute address and a bad password is refused', async () => {
      const deviceId = uniqueId('c-service');
      await hub.registry.create({ deviceId });
      const policy = owner();
      const hubName = host().split('.')[0];
      // iothub_messaging_ll.c 458-560: user <policy>@sas.root.<hub>, sr the host name, raw.
      const plain = (password: string) => ({
        PLAIN: () => ({
          start: (done: (e?: Error, r?: Buffer) => void) =>
            done(undefined, Buffer.from(`\0${policy.keyName}@sas.root.${hubName}\0${password}`)),
        }),
      });
      await expect(connect(plain('SharedAccessSignature sr=x&sig=y&se=1'))).rejects.toThrow();
      const service = await connect(plain(token(host(), policy.primaryKey, policy.keyName)));
      const send = await opened(
        service.open_sender({
          name: 'sender-link',
          source: { address: 'ingress' },
          target: { address: `amqps://${host()}/messages/deviceBound` },
        }),
      );
      expect(
        await outcomeOf(send, {
          message_id: 'from-c',
          to: `/devices/${deviceId}/messages/deviceBound`,
          body: rhea.message.data_section(Buffer.from('hello')),
        }),
      ).toBe('accepted');
      expect(hub.emulator.c2d.depth({ deviceId })).toBe(1);
    });
  });
  describe('Java (iot-device-client over AMQP: SASL ANONYMOUS, rooted addresses, uuid ids)', () => {
    /** AmqpsIotHubConnection.java 472-473: SASL ANONYMOUS with a SAS token, then CBS. */
    const anonymous = {
      ANONYMOUS: () => ({ start: (done: (e?: Error, r?: Buffer) => void) => done() }),
    };
    /** A uuid on the wire (rhea writes a 16-byte buffer in an id field as an AMQP uuid). */
    const uuid = () => Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
    /** Link properties as TransportUtils.java 18-27 and the link handlers set them. */
    const javaLink = (channel: string) => ({
      'com.microsoft:api-version': '2020-09-30',
      'com.microsoft:client-version':
        'com.microsoft.azure.sdk.iot.iot-device-client/2.5.0 (17.0.9; Linux; amd64)',
      'com.microsoft:channel-correlation-id': channel,
    });

    it('when a Java device authenticates, sends, reads and writes its twin, answers a method and completes a C2D message, then every reply has the types Java casts to', async () => {
      const deviceId = uniqueId('java');
      await hub.registry.create({ deviceId });
      const connection = await connect(anonymous);
      // AmqpsCbs{Sender,Receiver}LinkHandler: cbs-sender/-receiver on $cbs, reply-to "cbs".
      const cbsReceiver = await opened(
        connection.open_receiver({ name: 'cbs-receiver', source: { address: '$cbs' } }),
      );
      const cbsSender = await opened(
        connection.open_sender({ name: 'cbs-sender', target: { address: '$cbs' } }),
      );
      const requestId = uuid();
      const cbsReply = next(cbsReceiver);
      cbsSender.send({
        message_id: requestId,
        to: '$cbs',
        reply_to: 'cbs',
        application_properties: {
          operation: 'put-token',
          type: 'servicebus.windows.net:sastoken',
          name: `${host()}/devices/${deviceId}`,
        },
        body: token(`${host()}/devices/${deviceId}`, deviceKey(deviceId)),
      });
      const reply = (await cbsReply).message!;
      // AmqpsCbsReceiverLinkHandler.java 72, 86: correlation-id cast to UUID, status an int.
      expect(Buffer.isBuffer(reply.correlation_id)).toBe(true);
      expect((reply.correlation_id as Buffer).equals(requestId)).toBe(true);
      expect((reply.application_properties as Record<string, unknown>)['status-code']).toBe(200);

      // Telemetry on the rooted address (AmqpsTelemetrySenderLinkHandler.java 22-23).
      const from = hub.emulator.registry.sequenceNumber;
      const telemetry = await opened(
        connection.open_sender({
          name: `sender_link_telemetry-${deviceId}-${randomUUID()}`,
          target: { address: `/devices/${deviceId}/messages/events` },
          properties: javaLink(deviceId),
        }),
      );
      expect(
        await outcomeOf(telemetry, {
          message_id: randomUUID(),
          correlation_id: randomUUID(),
          application_properties: { 'iothub-connection-device-id': deviceId, site: 'lyon' },
          message_annotations: {},
          body: rhea.message.data_section(Buffer.from('{"t":1}')),
        }),
      ).toBe('accepted');
      expect(telemetryOf(deviceId, from).map((e) => e.message?.properties['site'])).toEqual([
        'lyon',
      ]);

      // Twin (AmqpsTwin*LinkHandler, DeviceTwin.java): the desired subscription goes out with
      // no body; GET needs a status annotation and a data body; PATCH answers its version.
      const channel = `twin:${randomUUID()}`;
      const twinIn = await opened(
        connection.open_receiver({
          name: `receiver_link_devicetwin-${deviceId}-${randomUUID()}`,
          source: { address: `/devices/${deviceId}/twin` },
          properties: javaLink(channel),
        }),
      );
      const twinOut = await opened(
        connection.open_sender({
          name: `sender_link_devicetwin-${deviceId}-${randomUUID()}`,
          target: { address: `/devices/${deviceId}/twin` },
          properties: javaLink(channel),
        }),
      );
      const twinRequest = async (operation: string, resource?: string, body?: unknown) => {
        const correlationId = uuid();
        const answer = next(twinIn, (m) =>
          Buffer.isBuffer(m.correlation_id) ? m.correlation_id.equals(correlationId) : false,
        );
        twinOut.send({
          message_id: randomUUID(),
          correlation_id: correlationId,
          message_annotations: { operation, ...(resource ? { resource } : {}) },
          body:
            body === undefined
              ? operation === 'GET'
                ? rhea.message.data_section(Buffer.alloc(0))
                : undefined
              : rhea.message.data_section(Buffer.from(JSON.stringify(body))),
        });
        const message = (await answer).message!;
        return {
          annotations: message.message_annotations as Record<string, unknown>,
          body: message.body as { typecode?: number; content?: Buffer } | undefined,
        };
      };
      expect(
        (await twinRequest('PUT', '/notifications/twin/properties/desired')).annotations['status'],
      ).toBe(200);
      const got = await twinRequest('GET');
      expect(got.annotations['status']).toBe(200);
      expect(got.body?.typecode).toBe(0x75); // a data section, which the handler casts to Data
      expect(JSON.parse(got.body!.content!.toString())).toHaveProperty('desired.$version');
      const patched = await twinRequest('PATCH', '/properties/reported', { firmware: '2.1' });
      expect(patched.annotations['status']).toBe(204);
      expect(Number(patched.annotations['version'])).toBeGreaterThan(1);
      const push = next(twinIn, (m) => m.correlation_id === undefined);
      await hub.registry.updateTwin(deviceId, { properties: { desired: { interval: 5 } } }, '*');
      const pushed = (await push).message!;
      expect((pushed.body as { typecode: number }).typecode).toBe(0x75);
      expect(JSON.parse((pushed.body as { content: Buffer }).content.toString())).toMatchObject({
        interval: 5,
        $version: expect.any(Number),
      });

      // Methods (AmqpsMethods*LinkHandler, DirectMethod.java 87-94): the call's correlation id
      // is a uuid the answer echoes as a uuid, with IoThub-status an int.
      const methodChannel = `methods:${randomUUID()}`;
      const methodsIn = await opened(
        connection.open_receiver({
          name: `receiver_link_devicemethods-${deviceId}-${randomUUID()}`,
          source: { address: `/devices/${deviceId}/methods/devicebound` },
          properties: javaLink(methodChannel),
        }),
      );
      const methodsOut = await opened(
        connection.open_sender({
          name: `sender_link_devicemethods-${deviceId}-${randomUUID()}`,
          target: { address: `/devices/${deviceId}/methods/devicebound` },
          properties: javaLink(methodChannel),
        }),
      );
      let callCorrelation: unknown;
      methodsIn.on('message', (context) => {
        const call = context.message!;
        callCorrelation = call.correlation_id;
        methodsOut.send({
          message_id: randomUUID(),
          correlation_id: call.correlation_id,
          application_properties: {
            'IoThub-status': rhea.types.wrap_int(200),
            'iothub-connection-device-id': deviceId,
          },
          body: rhea.message.data_section(Buffer.from('{"rebooted":true}')),
        });
      });
      const invoked = await hub.raw.send(
        'POST',
        `/twins/${deviceId}/methods?api-version=2021-04-12`,
        { body: JSON.stringify({ methodName: 'reboot', responseTimeoutInSeconds: 10 }) },
      );
      expect(invoked.json).toEqual({ status: 200, payload: { rebooted: true } });
      expect(Buffer.isBuffer(callCorrelation)).toBe(true);

      // C2D (AmqpsIotHubConnection.java 667-679): settled in one step, no answer awaited.
      const c2d = await opened(
        connection.open_receiver({
          name: `receiver_link_telemetry-${deviceId}-${randomUUID()}`,
          source: { address: `/devices/${deviceId}/messages/devicebound` },
          properties: javaLink(deviceId),
          autoaccept: false,
        }),
      );
      const arrived = next(c2d);
      const service = serviceClientFor(hub.emulator.serviceConnectionString, {
        ca: hub.emulator.tls.caCert,
        amqpPort: hub.emulator.amqpsPort,
      });
      await service.open();
      await service.send(deviceId, 'hello java');
      await service.close();
      const message = await arrived;
      expect((message.message!.body as { typecode: number }).typecode).toBe(0x75);
      message.delivery!.accept();
      await expect.poll(() => hub.emulator.c2d.depth({ deviceId })).toBe(0);
    });
  });
  describe('SASL EXTERNAL (an X.509 device naming its TLS certificate as the credential)', () => {
    const external = {
      EXTERNAL: () => ({
        start: (done: (e?: Error, r?: Buffer) => void) => done(undefined, Buffer.alloc(0)),
      }),
    };

    it('when an X.509 device authenticates with EXTERNAL and its certificate, then it sends without $cbs; without a certificate the connection is closed', async () => {
      const deviceId = uniqueId('x509-external');
      const certificate = await deviceCertificate(deviceId);
      await hub.registry.create({
        deviceId,
        authentication: {
          type: 'selfSigned',
          x509Thumbprint: { primaryThumbprint: certificate.sha1 },
        },
      });
      const connection = await connect(external, certificate);
      const from = hub.emulator.registry.sequenceNumber;
      const telemetry = await opened(
        connection.open_sender({ target: { address: `devices/${deviceId}/messages/events` } }),
      );
      expect(
        await outcomeOf(telemetry, {
          body: rhea.message.data_section(Buffer.from('by certificate')),
        }),
      ).toBe('accepted');
      expect(telemetryOf(deviceId, from)).toHaveLength(1);

      // The hub closes it as soon as it is open (the close may come in the same read).
      const bare = await connect(external);
      await expect.poll(() => bare.is_closed()).toBe(true);
      expect(bare.error).toMatchObject({ condition: 'amqp:unauthorized-access' });
    });
  });
});
