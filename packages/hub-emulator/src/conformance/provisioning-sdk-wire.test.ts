import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import rhea, { type Message } from 'rhea';
import { useAmqpWire } from './amqp-wire.ts';
import { rawMqttSocket } from './mqtt-raw.ts';
import { uniqueId, useHub } from './hub.ts';

/**
 * Device registration as the SDKs other than Node's send it, frame by frame: each variant
 * is what that SDK's source writes (C 1.15 `prov_transport_mqtt_common.c`,
 * `prov_transport_http_client.c`, `prov_auth_client.c`; .NET 1.19 `ProvisioningTransport*`,
 * `ProvisioningSasBuilder.cs`; Java `ContractAPIMqtt`/`ContractAPIHttp`, `RegisterTask`;
 * Python 2.14's provisioning pipeline). Node's own transports run in provisioning.test.ts.
 */

interface Variant {
  sdk: string;
  apiVersion: string;
  /** The CONNECT username after `{scope}/registrations/{id}/`. */
  clientDetails: string;
  keepalive: number;
  clean: boolean;
  /** How the SAS token's `sr` is written (what is signed is exactly this text). */
  sr: (resource: string) => string;
  /** `skn`: `registration`, empty (`skn=`) or left out. */
  skn: string | undefined;
  lowercaseHex: boolean;
  qos: 0 | 1;
  /** The `$rid`s of the register and the poll. */
  rids: [string, string];
  /** MQTT packet ids of subscribe, register and poll (QoS 1 publishes only). */
  registerBody: (registrationId: string) => string;
  pollBody: (registrationId: string) => string;
}

const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());

const VARIANTS: Variant[] = [
  {
    sdk: 'C',
    apiVersion: '2021-06-01',
    clientDetails: 'api-version=2021-06-01&ClientVersion=1.15.0',
    keepalive: 0,
    clean: true,
    sr: (resource) => lower(encodeURIComponent(resource)),
    skn: 'registration',
    lowercaseHex: true,
    qos: 0,
    rids: ['1', '2'],
    registerBody: (id) => JSON.stringify({ registrationId: id }),
    // The C client sends the register body again with each poll.
    pollBody: (id) => JSON.stringify({ registrationId: id }),
  },
  {
    sdk: '.NET',
    apiVersion: '2019-03-31',
    clientDetails: `api-version=2019-03-31&ClientVersion=${encodeURIComponent('Microsoft.Azure.Devices.Provisioning.Client/1.19.4 (.NET 8.0; Linux; X64)')}`,
    keepalive: 0,
    clean: true,
    sr: (resource) => encodeURIComponent(resource),
    skn: 'registration',
    lowercaseHex: false,
    qos: 1,
    // $rid is the MQTT packet id: the subscribe took 1.
    rids: ['2', '3'],
    registerBody: () => '',
    pollBody: () => '',
  },
  {
    sdk: 'Java',
    apiVersion: '2019-03-31',
    // (Java sends its api-version as the ClientVersion.)
    clientDetails: 'api-version=2019-03-31&ClientVersion=2019-03-31',
    keepalive: 230,
    clean: false,
    sr: (resource) => resource,
    skn: '',
    lowercaseHex: false,
    qos: 0,
    rids: ['1', '2'],
    registerBody: (id) => JSON.stringify({ registrationId: id, payload: 'factory line 3' }),
    pollBody: () => '',
  },
  {
    sdk: 'Python',
    apiVersion: '2019-03-31',
    clientDetails: `api-version=2019-03-31&ClientVersion=${encodeURIComponent('azure-iot-device-provisioning-py/2.14.0(3.11.2;Linux 6.1;x86_64)')}`,
    keepalive: 60,
    clean: false,
    sr: (resource) => encodeURIComponent(resource),
    skn: undefined,
    lowercaseHex: false,
    qos: 1,
    rids: [randomUUID(), randomUUID()],
    registerBody: (id) => `{"payload": null, "registrationId": "${id}"}`,
    pollBody: () => ' ',
  },
];

function tokenFor(variant: Variant, resource: string, key: string, ttlSeconds = 2400): string {
  const sr = variant.sr(resource);
  const se = String(Math.floor(Date.now() / 1000) + ttlSeconds);
  const signature = createHmac('sha256', Buffer.from(key, 'base64'))
    .update(`${sr}\n${se}`)
    .digest('base64');
  const sig = variant.lowercaseHex
    ? lower(encodeURIComponent(signature))
    : encodeURIComponent(signature);
  const skn = variant.skn === undefined ? '' : `&skn=${variant.skn}`;
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${se}${skn}`;
}

describe('Emulator DPS: registration as the C, .NET, Java and Python SDKs send it', () => {
  const hub = useHub();

  /** An individual symmetric-key enrollment; answers its key. */
  function enroll(registrationId: string): string {
    const service = hub.emulator.provisioning.service;
    service.putEnrollment(registrationId, { attestation: { type: 'symmetricKey' } }, undefined);
    const mechanism = service.attestationMechanism('enrollment', registrationId) as {
      symmetricKey: { primaryKey: string };
    };
    return mechanism.symmetricKey.primaryKey;
  }

  it.each(VARIANTS)(
    'when the $sdk SDK registers over MQTT as its source writes it, then it is answered on its $rid and assigned',
    async (variant) => {
      const { idScope } = hub.emulator.provisioning;
      const registrationId = uniqueId(`wire-${variant.sdk.replace('.', '')}`).toLowerCase();
      const key = enroll(registrationId);
      const client = await rawMqttSocket(hub.emulator);
      try {
        client.send({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: variant.clean,
          clientId: registrationId,
          keepalive: variant.keepalive,
          username: `${idScope}/registrations/${registrationId}/${variant.clientDetails}`,
          password: Buffer.from(
            tokenFor(variant, `${idScope}/registrations/${registrationId}`, key),
          ),
        });
        const connack = await client.next('connack');
        expect(connack).toMatchObject({ returnCode: 0, sessionPresent: false });
        client.send({
          cmd: 'subscribe',
          messageId: 1,
          subscriptions: [{ topic: '$dps/registrations/res/#', qos: 1 }],
        });
        expect(await client.next('suback')).toMatchObject({ messageId: 1, granted: [1] });

        const [registerRid, pollRid] = variant.rids;
        const publish = (topic: string, body: string, messageId: number) =>
          client.send({
            cmd: 'publish',
            topic,
            payload: Buffer.from(body),
            qos: variant.qos,
            retain: false,
            dup: false,
            ...(variant.qos === 1 ? { messageId } : {}),
          } as IPublishPacket);
        const answer = async () => {
          const packet = (await client.next('publish')) as IPublishPacket;
          // Every answer is acknowledged (the service sends them at QoS 1).
          if (packet.qos === 1) client.send({ cmd: 'puback', messageId: packet.messageId! });
          return { topic: packet.topic, body: JSON.parse(packet.payload.toString()) };
        };

        publish(
          `$dps/registrations/PUT/iotdps-register/?$rid=${registerRid}`,
          variant.registerBody(registrationId),
          Number(registerRid) || 2,
        );
        if (variant.qos === 1) {
          // .NET reads strictly in order: its PUBACK must come before the answer.
          await client.next('puback');
          const sent = client.arrivals.filter((c) => c === 'puback' || c === 'publish');
          expect(sent[0]).toBe('puback');
        }
        const started = await answer();
        // `retry-after` after `$rid`, as Java and Python split the topic.
        expect(started.topic).toMatch(
          new RegExp(`^\\$dps/registrations/res/202/\\?\\$rid=${registerRid}&retry-after=\\d+$`),
        );
        expect(started.body).toMatchObject({
          status: 'assigning',
          operationId: expect.any(String),
        });

        publish(
          `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${pollRid}&operationId=${started.body.operationId}`,
          variant.pollBody(registrationId),
          Number(pollRid) || 3,
        );
        const done = await answer();
        expect(done.topic).toMatch(
          new RegExp(`^\\$dps/registrations/res/200/\\?\\$rid=${pollRid}`),
        );
        expect(done.body).toMatchObject({
          status: 'assigned',
          registrationState: { registrationId, deviceId: registrationId, status: 'assigned' },
        });
        expect(hub.emulator.registry.find(registrationId)).toBeDefined();
      } finally {
        client.end();
      }
    },
  );

  /** One HTTPS request to the emulator's DPS, with exactly these headers and body. */
  function https(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
    return new Promise((resolve, reject) => {
      const call = request(
        {
          host: 'localhost',
          port: hub.emulator.httpsPort,
          ca: hub.emulator.tls.caCert,
          method,
          path,
          headers: {
            ...headers,
            ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () =>
            resolve({
              status: response.statusCode!,
              headers: response.headers,
              json: text ? JSON.parse(text) : undefined,
            }),
          );
        },
      );
      call.on('error', reject);
      call.end(body);
    });
  }

  it.each<{
    sdk: string;
    variant: Variant;
    extra: Record<string, string>;
    authorization: string;
    body: (id: string) => string;
    pollBody: string | undefined;
  }>([
    {
      sdk: 'C',
      variant: VARIANTS[0]!,
      extra: { UserAgent: 'prov_device_client/1.0', Connection: 'keep-alive' },
      authorization: 'Authorization',
      body: (id: string) => JSON.stringify({ registrationId: id }),
      // C sends the JSON content type on its GET too, with no body.
      pollBody: undefined,
    },
    {
      sdk: '.NET',
      variant: VARIANTS[1]!,
      extra: { 'User-Agent': 'Microsoft.Azure.Devices.Provisioning.Client/1.19.4' },
      authorization: 'Authorization',
      body: (id: string) => JSON.stringify({ registrationId: id }),
      pollBody: undefined,
    },
    {
      sdk: 'Java',
      variant: VARIANTS[2]!,
      extra: { 'User-Agent': 'com.microsoft.azure.sdk.iot.dps.dps-device-client/2.1.3' },
      authorization: 'authorization',
      body: (id: string) => JSON.stringify({ registrationId: id }),
      pollBody: '',
    },
  ])(
    'when the $sdk SDK registers over HTTPS as its source writes it, then the PUT is answered 202 with retry-after and the poll assigns it',
    async ({ variant, extra, authorization, body, pollBody }) => {
      const { idScope } = hub.emulator.provisioning;
      const registrationId = uniqueId(`http-${variant.sdk.replace('.', '')}`).toLowerCase();
      const key = enroll(registrationId);
      const headers: Record<string, string> = {
        ...extra,
        [authorization]: tokenFor(variant, `${idScope}/registrations/${registrationId}`, key),
        Accept: 'application/json',
        'Content-Type': 'application/json; charset=utf-8',
      };
      const base = `/${idScope}/registrations/${registrationId}`;
      const put = await https(
        'PUT',
        `${base}/register?api-version=${variant.apiVersion}`,
        headers,
        body(registrationId),
      );
      // .NET refuses anything but 202 for the PUT.
      expect(put.status).toBe(202);
      expect(put.headers['retry-after']).toMatch(/^\d+$/);
      expect(put.json).toMatchObject({ status: 'assigning', operationId: expect.any(String) });
      const poll = await https(
        'GET',
        `${base}/operations/${encodeURIComponent(put.json.operationId)}?api-version=${variant.apiVersion}`,
        headers,
        pollBody,
      );
      expect(poll.status).toBe(200);
      expect(poll.json).toMatchObject({
        status: 'assigned',
        registrationState: { deviceId: registrationId, status: 'assigned' },
      });
    },
  );

  const amqp = useAmqpWire(hub);

  it.each([
    {
      sdk: 'C',
      variant: VARIANTS[0]!,
      // prov_transport_amqp_common.c: "amqps://%s/%s/registrations/%s", no correlation id,
      // the register JSON in a data section, again with each poll.
      address: (host: string, path: string) => `amqps://${host}/${path}`,
      correlationIds: [undefined, undefined],
      register: (id: string) =>
        rhea.message.data_section(Buffer.from(JSON.stringify({ registrationId: id }))),
      poll: (id: string) =>
        rhea.message.data_section(Buffer.from(JSON.stringify({ registrationId: id }))),
    },
    {
      sdk: '.NET',
      variant: VARIANTS[1]!,
      // ProvisioningTransportHandlerAmqp.cs: a relative address, one correlation id for both,
      // an empty register data section, the poll's body an AmqpValue string.
      address: (_host: string, path: string) => path,
      correlationIds: [
        '5d3c9a1e-1111-4222-8333-444455556666',
        '5d3c9a1e-1111-4222-8333-444455556666',
      ],
      register: () => rhea.message.data_section(Buffer.alloc(0)),
      poll: () => 'iotdps-get-operationstatus',
    },
    {
      sdk: 'Java',
      variant: VARIANTS[2]!,
      // ContractAPIAmqp: a rooted address, no correlation id, no body on the poll.
      address: (_host: string, path: string) => `/${path}`,
      correlationIds: [undefined, undefined],
      register: (id: string) =>
        rhea.message.data_section(Buffer.from(JSON.stringify({ registrationId: id }))),
      poll: () => undefined,
    },
  ])(
    'when the $sdk SDK registers over AMQP as its source writes it, then each request is accepted and answered in a data section with the retry-after it reads',
    async ({ variant, address, correlationIds, register, poll }) => {
      const { idScope } = hub.emulator.provisioning;
      const registrationId = uniqueId(`amqp-${variant.sdk.replace('.', '')}`).toLowerCase();
      const key = enroll(registrationId);
      const path = `${idScope}/registrations/${registrationId}`;
      const password = tokenFor(variant, path, key);
      const connection = await amqp.connect({
        PLAIN: () => ({
          start: (done: (e?: Error, r?: Buffer) => void) =>
            done(undefined, Buffer.from(`\0${path}\0${password}`)),
        }),
      });
      const properties = { 'com.microsoft:api-version': variant.apiVersion };
      const sender = await amqp.opened(
        connection.open_sender({
          target: { address: address(hub.emulator.hostName, path) },
          properties,
        }),
      );
      const receiver = await amqp.opened(
        connection.open_receiver({
          source: { address: address(hub.emulator.hostName, path) },
          properties,
        }),
      );
      const ask = async (message: Omit<Message, 'body'> & { body?: unknown }) => {
        const answer = amqp.next(receiver);
        expect(await amqp.outcomeOf(sender, message as Message)).toBe('accepted');
        const { message: reply } = await answer;
        const body = reply!.body as { typecode?: number; content?: Buffer };
        // An answer is a data section (C and Java read nothing else).
        expect(body.typecode).toBe(0x75);
        return { reply: reply!, json: JSON.parse(body.content!.toString()) };
      };
      const started = await ask({
        ...(correlationIds[0] ? { correlation_id: correlationIds[0] } : {}),
        application_properties: {
          'iotdps-operation-type': 'iotdps-register',
          'iotdps-forceRegistration': false,
        },
        ...(register(registrationId) !== undefined ? { body: register(registrationId) } : {}),
      });
      expect(started.json).toMatchObject({ status: 'assigning', operationId: expect.any(String) });
      // C, Java and Node read `retry-after`; .NET only `Retry-After`.
      expect(started.reply.application_properties).toMatchObject({
        'retry-after': expect.anything(),
        'Retry-After': expect.anything(),
      });
      if (correlationIds[0]) expect(started.reply.correlation_id).toBe(correlationIds[0]);
      const pollBody = poll(registrationId);
      const done = await ask({
        ...(correlationIds[1] ? { correlation_id: correlationIds[1] } : {}),
        application_properties: {
          'iotdps-operation-type': 'iotdps-get-operationstatus',
          'iotdps-operation-id': started.json.operationId,
        },
        ...(pollBody !== undefined ? { body: pollBody } : {}),
      });
      expect(done.json).toMatchObject({
        status: 'assigned',
        registrationState: { deviceId: registrationId, status: 'assigned' },
      });
    },
  );
});
