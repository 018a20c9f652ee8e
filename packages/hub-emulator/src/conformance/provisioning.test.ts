import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import amqpBase from 'azure-iot-amqp-base';
import httpBase from 'azure-iot-http-base';
import mqttBase from 'azure-iot-mqtt-base';
import provisioningDevice from 'azure-iot-provisioning-device';
import provisioningAmqp from 'azure-iot-provisioning-device-amqp';
import provisioningHttp from 'azure-iot-provisioning-device-http';
import provisioningMqtt from 'azure-iot-provisioning-device-mqtt';
import provisioningService from 'azure-iot-provisioning-service';
import symmetricKey from 'azure-iot-security-symmetric-key';
import x509Security from 'azure-iot-security-x509';
import { portAgentFor } from '@twinscope/hub-connection';
import { createSasToken } from '../auth/sas.ts';
import { deriveDeviceKey } from '../provisioning/model.ts';
import { createCa, deviceCertificate, intermediateCa } from './device-certificates.ts';
import { startEmulator, type RunningEmulator } from '../emulator.ts';
import { uniqueId, useHub } from './hub.ts';

const { ProvisioningDeviceClient } = provisioningDevice;
const { ProvisioningServiceClient } = provisioningService;
const { SymmetricKeySecurityClient } = symmetricKey;
type Kind = 'http' | 'mqtt' | 'amqp';

/**
 * The Device Provisioning Service beside the hub, with Microsoft's unmodified Node SDKs:
 * the service client manages enrollments, and devices register over HTTPS and MQTT. The
 * SDKs dial the default ports (443, 8883) of a bare host name; here they reach the
 * emulator's ports through their own options (an agent for HTTPS, the URI's port for MQTT).
 */
/**
 * The service client as `fromConnectionString` makes it for a policy of the service, with
 * an agent to the port.
 */
function serviceClientOf(
  emulator: RunningEmulator,
  keyName = 'provisioningserviceowner',
  key = /SharedAccessKey=([^;]+)/.exec(emulator.provisioning.serviceConnectionString)![1]!,
) {
  const { hostName, httpsPort, tls } = emulator;
  const config = {
    host: hostName,
    sharedAccessSignature: createSasToken(
      hostName,
      key,
      Math.floor(Date.now() / 1000) + 3600,
      keyName,
    ),
  };
  const http = new httpBase.Http();
  http.setOptions({
    ca: tls.caCert,
    http: { agent: portAgentFor({ port: httpsPort, ca: tls.caCert }) },
  });
  return new ProvisioningServiceClient(
    config as never,
    // (Each SDK package pins its own copy of the shared packages: the types differ, not the code.)
    new httpBase.RestApiClient(
      config as never,
      'azure-iot-provisioning-service/1.11.2',
      http,
    ) as never,
  );
}

describe('the Device Provisioning Service with the unmodified Node SDKs', () => {
  const hub = useHub();
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  });

  const serviceClient = () => serviceClientOf(hub.emulator);

  /** A device's transport as its SDK makes it, reaching the emulator's port. */
  function transport(kind: Kind) {
    const { tls, httpsPort } = hub.emulator;
    if (kind === 'amqp') {
      // The SDK passes no CA to its AMQP connection (a real service's is public); the test
      // adds the emulator's, as NODE_EXTRA_CA_CERTS would.
      class TrustingAmqp extends amqpBase.Amqp {
        override connect(config: never, done: never) {
          const given = config as { sslOptions?: object };
          return super.connect(
            { ...given, sslOptions: { ...given.sslOptions, ca: tls.caCert } } as never,
            done,
          );
        }
      }
      return {
        transport: new provisioningAmqp.Amqp(new TrustingAmqp(true) as never),
        host: `${hub.emulator.hostName}:${hub.emulator.amqpsPort}`,
      };
    }
    if (kind === 'http') {
      const http = new httpBase.Http();
      http.setOptions({
        ca: tls.caCert,
        http: { agent: portAgentFor({ port: httpsPort, ca: tls.caCert }) },
      });
      return { transport: new provisioningHttp.Http(http as never), host: hub.emulator.hostName };
    }
    const base = new mqttBase.MqttBase();
    base.setOptions({ ca: tls.caCert } as never);
    return {
      transport: new provisioningMqtt.Mqtt(base as never),
      host: `${hub.emulator.hostName}:${hub.emulator.mqttPort}`,
    };
  }

  /** The service client's promises resolve to `{ responseBody, httpResponse }`. */
  async function body<T>(call: Promise<unknown>): Promise<T> {
    return ((await call) as { responseBody: T }).responseBody;
  }

  type Enrolled = { etag: string; attestation: { symmetricKey: { primaryKey: string } } };

  /** A symmetric-key individual enrollment (keys made by the service), as the service reads it back. */
  const enrollWithKeys = (registrationId: string, settings: object = {}) =>
    body<Enrolled>(
      serviceClient().createOrUpdateIndividualEnrollment({
        registrationId,
        attestation: { type: 'symmetricKey', symmetricKey: {} },
        ...settings,
      } as never),
    );

  /** Registers with a symmetric key, or with a certificate (and the chain it sends). */
  async function register(
    kind: Kind,
    registrationId: string,
    key: string | { cert: string; key: string },
  ) {
    const { transport: made, host } = transport(kind);
    const client = ProvisioningDeviceClient.create(
      host,
      hub.emulator.provisioning.idScope,
      made as never,
      (typeof key === 'string'
        ? new SymmetricKeySecurityClient(registrationId, key)
        : new x509Security.X509Security(registrationId, key)) as never,
    );
    closers.push(() => new Promise((done) => made.disconnect(() => done(undefined))));
    return (await client.register()) as {
      assignedHub: string;
      deviceId: string;
      status: string;
      substatus: string;
    };
  }

  it.each(['http', 'mqtt', 'amqp'] as const)(
    'when an individual enrollment with an initial twin is made by the service client, then a device registers over %s with its key, lands in the hub with that twin, and the enrollment shows the registration',
    async (kind) => {
      const service = serviceClient();
      const registrationId = uniqueId(`sk-${kind}`);
      const created = await body<{
        etag: string;
        attestation: { symmetricKey: { primaryKey: string } };
      }>(
        service.createOrUpdateIndividualEnrollment({
          registrationId,
          attestation: { type: 'symmetricKey', symmetricKey: {} },
          capabilities: { iotEdge: false },
          initialTwin: { tags: { site: 'berlin' }, properties: { desired: { interval: 30 } } },
          provisioningStatus: 'enabled',
        } as never),
      );
      expect(created.etag).toBeTruthy();
      const key = created.attestation.symmetricKey.primaryKey;

      const result = await register(kind, registrationId, key);
      expect(result).toMatchObject({
        assignedHub: hub.emulator.hostName,
        deviceId: registrationId,
        status: 'assigned',
        substatus: 'initialAssignment',
      });
      const twin = (await hub.registry.getTwin(registrationId)).responseBody;
      expect(twin.tags).toEqual({ site: 'berlin' });
      expect(twin.properties.desired).toMatchObject({ interval: 30 });
      const identity = (await hub.registry.get(registrationId)).responseBody;
      expect(identity.authentication?.symmetricKey?.primaryKey).toBe(key);

      const read = await body<{ registrationState: { status: string; deviceId: string } }>(
        service.getIndividualEnrollment(registrationId),
      );
      expect(read.registrationState).toMatchObject({
        status: 'assigned',
        deviceId: registrationId,
        symmetricKey: {},
      });
    },
  );

  it('when a symmetric-key group is made, then each device registers with the key derived from its registration id, and a key of another id is refused', async () => {
    const service = serviceClient();
    const groupId = uniqueId('group');
    const groupKey = Buffer.alloc(64, 7).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId,
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: groupKey, secondaryKey: groupKey },
      },
      initialTwin: { tags: { group: groupId } },
    } as never);
    const deviceId = uniqueId('member');
    const result = await register('mqtt', deviceId, deriveDeviceKey(groupKey, deviceId));
    expect(result).toMatchObject({ deviceId, status: 'assigned' });
    expect((await hub.registry.getTwin(deviceId)).responseBody.tags).toEqual({ group: groupId });

    const states = await body<{ registrationId: string; status: string }[]>(
      service
        .createEnrollmentGroupDeviceRegistrationStateQuery({ query: 'SELECT *' } as never, groupId)
        .next(),
    );
    expect(states.map((s) => [s.registrationId, s.status])).toEqual([[deviceId, 'assigned']]);

    const again = uniqueId('member');
    expect(await register('amqp', again, deriveDeviceKey(groupKey, again))).toMatchObject({
      deviceId: again,
      status: 'assigned',
    });
    for (const kind of ['http', 'mqtt', 'amqp'] as const)
      await expect(
        register(kind, uniqueId('stranger'), deriveDeviceKey(groupKey, 'someone-else')),
      ).rejects.toThrow();
  });

  it('when one device of a group is revoked by a disabled individual enrollment of its own, then it is refused as disabled and the rest of the group still registers', async () => {
    // Azure's way to disallow one member of an enrollment group: an individual enrollment
    // for its registration id, disabled (with the key the device derives from the group's).
    const service = serviceClient();
    const groupId = uniqueId('revoking');
    const groupKey = Buffer.alloc(64, 9).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId,
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: groupKey, secondaryKey: groupKey },
      },
    } as never);
    const revoked = uniqueId('revoked');
    const derived = deriveDeviceKey(groupKey, revoked);
    expect(await register('mqtt', revoked, derived)).toMatchObject({ status: 'assigned' });
    await service.createOrUpdateIndividualEnrollment({
      registrationId: revoked,
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: derived, secondaryKey: derived },
      },
      provisioningStatus: 'disabled',
    } as never);
    await expect(register('mqtt', revoked, derived)).rejects.toThrow(/disabled/i);
    expect(hub.emulator.provisioning.service.getRegistration(revoked)).toMatchObject({
      status: 'disabled',
    });
    const other = uniqueId('member');
    expect(await register('http', other, deriveDeviceKey(groupKey, other))).toMatchObject({
      deviceId: other,
      status: 'assigned',
    });
  });

  it('when an enrollment is updated with a stale etag, then the update is refused and the enrollment stays; with its etag, it is disabled and its device is refused', async () => {
    const service = serviceClient();
    const registrationId = uniqueId('etag');
    const first = await enrollWithKeys(registrationId);
    await expect(
      service.createOrUpdateIndividualEnrollment({
        ...first,
        registrationId,
        etag: '"stale"',
        provisioningStatus: 'disabled',
      } as never),
    ).rejects.toThrow();
    const disabled = await body<{ provisioningStatus: string }>(
      service.createOrUpdateIndividualEnrollment({
        ...first,
        registrationId,
        provisioningStatus: 'disabled',
      } as never),
    );
    expect(disabled.provisioningStatus).toBe('disabled');
    await expect(
      register('http', registrationId, first.attestation.symmetricKey.primaryKey),
    ).rejects.toThrow();
    await expect(hub.registry.get(registrationId)).rejects.toThrow();
  });

  it('when the service deletes an enrollment, then reading it is a 404 and the device can no longer register', async () => {
    const service = serviceClient();
    const registrationId = uniqueId('gone');
    const made = await enrollWithKeys(registrationId);
    await service.deleteIndividualEnrollment(registrationId, made.etag);
    await expect(service.getIndividualEnrollment(registrationId)).rejects.toMatchObject({
      responseBody: expect.stringContaining('no individual enrollment'),
    });
    await expect(
      register('mqtt', registrationId, made.attestation.symmetricKey.primaryKey),
    ).rejects.toThrow();
  });

  it.each(['http', 'mqtt', 'amqp'] as const)(
    'when an individual enrollment holds a self-signed certificate, then the device presenting it registers over %s and is created with its thumbprint; another certificate with the same name is refused',
    async (kind) => {
      const service = serviceClient();
      const registrationId = uniqueId(`x509-${kind}`);
      const device = await deviceCertificate(registrationId);
      await service.createOrUpdateIndividualEnrollment({
        registrationId,
        attestation: {
          type: 'x509',
          x509: { clientCertificates: { primary: { certificate: device.cert } } },
        },
        initialTwin: { properties: { desired: { mode: 'x509' } } },
      } as never);
      const result = await register(kind, registrationId, device);
      expect(result).toMatchObject({ deviceId: registrationId, status: 'assigned' });
      const identity = (await hub.registry.get(registrationId)).responseBody;
      expect(identity.authentication).toMatchObject({
        type: 'selfSigned',
        x509Thumbprint: { primaryThumbprint: device.sha1.toUpperCase() },
      });
      expect(
        (await hub.registry.getTwin(registrationId)).responseBody.properties.desired,
      ).toMatchObject({
        mode: 'x509',
      });
      await expect(
        register(kind, registrationId, await deviceCertificate(registrationId)),
      ).rejects.toThrow();
    },
  );

  it('when an X.509 group trusts a root, then a device sending its leaf and intermediate registers; when it trusts the intermediate, the leaf alone does; a chain to another root is refused', async () => {
    const service = serviceClient();
    const root = await createCa(uniqueId('root'));
    const intermediate = await intermediateCa(uniqueId('intermediate'), root);
    const byRoot = uniqueId('x509-root');
    const byIntermediate = uniqueId('x509-int');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: byRoot,
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: root.cert.toString('pem') } } },
      },
      initialTwin: { tags: { trusted: 'root' } },
    } as never);
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: byIntermediate,
      // As the service takes it too: base64 of the PEM.
      attestation: {
        type: 'x509',
        x509: {
          signingCertificates: {
            primary: { certificate: Buffer.from(intermediate.pem).toString('base64') },
          },
        },
      },
    } as never);

    // Read back, the certificate is its details; written back so, the group keeps it.
    const readBack = await body<{ attestation: { x509: { signingCertificates: object } } }>(
      service.getEnrollmentGroup(byRoot),
    );
    expect(JSON.stringify(readBack.attestation)).not.toContain('BEGIN CERTIFICATE');
    await service.createOrUpdateEnrollmentGroup(readBack as never);

    const withChain = uniqueId('chain');
    const leaf = await deviceCertificate(withChain, { ca: intermediate });
    const viaRoot = await register('mqtt', withChain, {
      cert: `${leaf.cert.trim()}\n${intermediate.pem}`,
      key: leaf.key,
    });
    expect(viaRoot).toMatchObject({ deviceId: withChain, status: 'assigned' });
    expect((await hub.registry.get(withChain)).responseBody.authentication).toMatchObject({
      type: 'certificateAuthority',
    });
    expect((await hub.registry.getTwin(withChain)).responseBody.tags).toEqual({ trusted: 'root' });

    const states = await body<{ registrationId: string }[]>(
      service
        .createEnrollmentGroupDeviceRegistrationStateQuery({ query: 'SELECT *' } as never, byRoot)
        .next(),
    );
    expect(states).toMatchObject([
      {
        registrationId: withChain,
        x509: {
          certificateInfo: {
            subjectName: `CN=${withChain}`,
            sha1Thumbprint: leaf.sha1.toUpperCase(),
          },
          enrollmentGroupId: byRoot,
          signingCertificateInfo: { subjectName: root.cert.subject },
        },
      },
    ]);

    const leafOnly = uniqueId('leaf');
    const alone = await deviceCertificate(leafOnly, { ca: intermediate });
    expect(await register('amqp', leafOnly, alone)).toMatchObject({
      deviceId: leafOnly,
      status: 'assigned',
    });

    // A member's leaf (no CA constraint) signing a certificate for another id: refused.
    const member = await intermediateCa(uniqueId('member'), intermediate, { notCa: true });
    const victim = uniqueId('victim');
    const minted = await deviceCertificate(victim, { ca: member });
    await expect(
      register('http', victim, {
        cert: `${minted.cert.trim()}\n${member.pem}\n${intermediate.pem}`,
        key: minted.key,
      }),
    ).rejects.toThrow();
    await expect(hub.registry.get(victim)).rejects.toThrow();

    const stranger = uniqueId('stranger');
    const otherRoot = await createCa(uniqueId('other-root'));
    const foreign = await deviceCertificate(stranger, { ca: otherRoot });
    await expect(register('http', stranger, foreign)).rejects.toThrow();
    await expect(hub.registry.get(stranger)).rejects.toThrow();
  });

  it.each([
    {
      policy: { updateHubAssignment: true, migrateDeviceData: true },
      substatus: 'deviceDataMigrated',
      kept: true,
    },
    {
      policy: { updateHubAssignment: true, migrateDeviceData: false },
      substatus: 'deviceDataReset',
      kept: false,
    },
    {
      policy: { updateHubAssignment: false, migrateDeviceData: false },
      substatus: 'initialAssignment',
      kept: true,
    },
  ])(
    'when a device registers again under the policy $policy, then it is $substatus and its twin is kept: $kept',
    async ({ policy, substatus, kept }) => {
      const registrationId = uniqueId('again');
      const made = await enrollWithKeys(registrationId, {
        initialTwin: { tags: { stage: 'initial' } },
        reprovisionPolicy: policy,
      });
      const key = made.attestation.symmetricKey.primaryKey;
      expect(await register('http', registrationId, key)).toMatchObject({
        substatus: 'initialAssignment',
      });
      const twin = (await hub.registry.getTwin(registrationId)).responseBody;
      await twin.update({ tags: { stage: 'changed in the hub' } });

      expect(await register('mqtt', registrationId, key)).toMatchObject({
        deviceId: registrationId,
        status: 'assigned',
        substatus,
      });
      expect((await hub.registry.getTwin(registrationId)).responseBody.tags).toEqual({
        stage: kept ? 'changed in the hub' : 'initial',
      });
    },
  );

  it('when an enrollment allocates by its webhook, then the webhook hears the device and its payload, and the device gets the hub, twin and payload it answers; a hub not linked fails the registration', async () => {
    const heard: Record<string, any>[] = [];
    let answer: object = {};
    const webhook = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        heard.push(JSON.parse(text));
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((done) => webhook.listen(0, '127.0.0.1', done));
    closers.push(() => new Promise((done) => webhook.close(done)));
    const service = serviceClient();
    const registrationId = uniqueId('custom');
    const made = await enrollWithKeys(registrationId, {
      allocationPolicy: 'custom',
      customAllocationDefinition: {
        webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/allocate`,
        apiVersion: '2021-10-01',
      },
      initialTwin: { tags: { from: 'enrollment' } },
    });
    const key = made.attestation.symmetricKey.primaryKey;
    answer = {
      iotHubHostName: hub.emulator.hostName,
      initialTwin: { tags: { from: 'webhook' }, properties: { desired: { tier: 'gold' } } },
      payload: { welcome: 'hello from the webhook' },
    };
    const { transport: made2, host } = transport('http');
    const client = ProvisioningDeviceClient.create(
      host,
      hub.emulator.provisioning.idScope,
      made2 as never,
      new SymmetricKeySecurityClient(registrationId, key) as never,
    );
    client.setProvisioningPayload({ model: 'thermostat-2' });
    const result = (await client.register()) as { deviceId: string; payload?: unknown };
    expect(result).toMatchObject({
      deviceId: registrationId,
      payload: { welcome: 'hello from the webhook' },
    });
    expect(heard[0]).toMatchObject({
      individualEnrollment: { registrationId },
      deviceRuntimeContext: { registrationId, payload: { model: 'thermostat-2' } },
      linkedHubs: [hub.emulator.hostName],
    });
    const twin = (await hub.registry.getTwin(registrationId)).responseBody;
    expect(twin.tags).toEqual({ from: 'webhook' });
    expect(twin.properties.desired).toMatchObject({ tier: 'gold' });

    answer = { iotHubHostName: 'another-hub.azure-devices.net' };
    await expect(register('mqtt', registrationId, key)).rejects.toThrow();
    const state = await body<{ status: string; errorMessage: string }>(
      service.getDeviceRegistrationState(registrationId),
    );
    expect(state).toMatchObject({
      status: 'failed',
      errorMessage: expect.stringContaining('another-hub.azure-devices.net'),
    });
  });

  it('when the service API or a device gets hostile or malformed input, then each is refused with the service error JSON and nothing is stored', async () => {
    const { provisioning, hostName } = hub.emulator;
    const key = /SharedAccessKey=([^;]+)/.exec(provisioning.serviceConnectionString)![1]!;
    const token = (sr = hostName, keyName = 'provisioningserviceowner', secret = key) =>
      createSasToken(sr, secret, Math.floor(Date.now() / 1000) + 600, keyName);
    const call = (
      method: string,
      path: string,
      body?: string,
      authorization: string | null = token(),
    ) =>
      hub.raw.send(method, `${path}?api-version=2021-10-01`, {
        authorization,
        ...(body !== undefined ? { body } : {}),
      });
    const id = uniqueId('hostile');
    const refusals = [
      [await call('PUT', `/enrollments/${id}`, '{"attestation":'), 400],
      [await call('PUT', `/enrollments/${id}`, '{"attestation":{"type":"password"}}'), 400],
      [
        await call(
          'PUT',
          `/enrollments/${id}`,
          JSON.stringify({
            attestation: {
              type: 'x509',
              x509: { clientCertificates: { primary: { certificate: 'not a certificate' } } },
            },
          }),
        ),
        400,
      ],
      [
        await call(
          'PUT',
          `/enrollments/${id}`,
          JSON.stringify({
            attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: 'c2hvcnQ=' } },
          }),
        ),
        400,
      ],
      [await call('PUT', `/enrollments/bad%20id!`, '{"attestation":{"type":"symmetricKey"}}'), 400],
      [
        await call(
          'PUT',
          `/enrollments/${id}`,
          `{"attestation":{"type":"symmetricKey"},"initialTwin":{"tags":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
        ),
        400,
      ],
      [
        await call(
          'PUT',
          `/enrollments/${id}`,
          JSON.stringify({ attestation: { type: 'symmetricKey' }, pad: 'x'.repeat(300 * 1024) }),
        ),
        413,
      ],
      [
        await call('PUT', `/enrollments/${id}`, '{"attestation":{"type":"symmetricKey"}}', null),
        401,
      ],
      [
        await call(
          'PUT',
          `/enrollments/${id}`,
          '{"attestation":{"type":"symmetricKey"}}',
          token('elsewhere.example'),
        ),
        401,
      ],
      [
        await call(
          'PUT',
          `/enrollments/${id}`,
          '{"attestation":{"type":"symmetricKey"}}',
          token(hostName, 'provisioningserviceowner', Buffer.alloc(32).toString('base64')),
        ),
        401,
      ],
      [await call('GET', `/enrollments/${id}`), 404],
      [await call('PATCH', `/enrollments/${id}`, '{}'), 405],
      [
        await hub.raw.send('PUT', `/0neWRONG/registrations/${id}/register?api-version=2019-03-31`, {
          authorization: null,
          body: '{}',
        }),
        401,
      ],
      [
        await hub.raw.send(
          'PUT',
          `/${provisioning.idScope}/registrations/${id}/register?api-version=2019-03-31`,
          { authorization: 'SharedAccessSignature sr=x&sig=y&se=1', body: '{}' },
        ),
        401,
      ],
    ] as const;
    for (const [response, status] of refusals) {
      expect(response.status).toBe(status);
      expect(response.json).toMatchObject({
        errorCode: expect.any(Number),
        message: expect.any(String),
      });
      expect(String((response.json as { errorCode: number }).errorCode).slice(0, 3)).toBe(
        String(status),
      );
    }
    expect((await call('GET', `/enrollments/${id}`)).status).toBe(404);
    expect(hub.emulator.registry.find(id)).toBeUndefined();
  });
});

describe('the Device Provisioning Service across an emulator restart', () => {
  it('when the emulator restarts on its data dir, then the id scope, enrollments and registration states are still there', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dps-durable-'));
    const start = () =>
      startEmulator({ dataDir, httpsPort: 0, mqttPort: 0, amqpsPort: 0, amqpPort: 0 });
    try {
      let emulator = await start();
      const { idScope } = emulator.provisioning;
      emulator.provisioning.service.putGroup(
        'kept',
        { attestation: { type: 'symmetricKey' }, initialTwin: { tags: { kept: true } } },
        undefined,
      );
      const key = (emulator.provisioning.service.getGroup('kept')['attestation'] as any)
        .symmetricKey.primaryKey as string;
      const registrationId = 'kept-device';
      const token = createSasToken(
        `${idScope}/registrations/${registrationId}`,
        deriveDeviceKey(key, registrationId),
        Math.floor(Date.now() / 1000) + 600,
        'registration',
      );
      emulator.provisioning.service.register(registrationId, { kind: 'sas', token });
      await emulator.close();

      emulator = await start();
      try {
        expect(emulator.provisioning.idScope).toBe(idScope);
        expect(emulator.provisioning.service.getGroup('kept')).toMatchObject({
          initialTwin: { tags: { kept: true } },
        });
        expect(emulator.provisioning.service.getRegistration(registrationId)).toMatchObject({
          status: 'assigned',
          deviceId: registrationId,
        });
        expect(emulator.registry.find(registrationId)!.twin.tags).toEqual({ kept: true });
      } finally {
        await emulator.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the provisioning service’s shared access policies', () => {
  const hub = useHub({
    provisioningPolicies: [
      { keyName: 'enrollmentread', rights: ['EnrollmentRead', 'RegistrationStatusRead'] },
    ],
  });

  it('when a policy holds only EnrollmentRead and RegistrationStatusRead, then the unmodified service client reads with it and every change is refused naming the right', async () => {
    const service = hub.emulator.provisioning.service;
    const policy = service.listPolicies().find((p) => p.keyName === 'enrollmentread')!;
    expect(policy.rights).toEqual(['EnrollmentRead', 'RegistrationStatusRead']);
    expect(
      service.listPolicies().find((p) => p.keyName === 'provisioningserviceowner')!.rights,
    ).toHaveLength(6);
    service.putGroup('readable', { attestation: { type: 'symmetricKey' } }, undefined);
    const reader = serviceClientOf(hub.emulator, 'enrollmentread', policy.primaryKey);
    const read = await reader.getEnrollmentGroup('readable');
    expect(read.responseBody.enrollmentGroupId).toBe('readable');
    const page = await reader.createEnrollmentGroupQuery({ query: '*' }, 10).next();
    expect((page as any).responseBody.map((g: any) => g.enrollmentGroupId)).toContain('readable');
    // Writes need EnrollmentWrite; deleting a registration needs RegistrationStatusWrite.
    for (const change of [
      () =>
        reader.createOrUpdateEnrollmentGroup({
          enrollmentGroupId: 'not-by-a-reader',
          attestation: { type: 'symmetricKey' },
        } as never),
      () => reader.deleteEnrollmentGroup('readable'),
      () => reader.deleteDeviceRegistrationState('any-device'),
    ]) {
      const refused = await change().then(
        () => undefined,
        (error: any) => error,
      );
      expect(refused?.response?.statusCode).toBe(401);
      expect(String(refused.responseBody)).toMatch(
        /lacks (EnrollmentWrite|RegistrationStatusWrite)/,
      );
    }
    expect(service.listGroups().map((g) => g['enrollmentGroupId'])).toEqual(['readable']);
    // A policy's rights are the service's: anything else is refused, and the owner stays whole.
    expect(() => service.putPolicy('bad', ['EnrollmentRead', 'Everything'])).toThrow(
      /not Everything/,
    );
    expect(() => service.deletePolicy('provisioningserviceowner')).toThrow(/cannot be deleted/);
    service.deletePolicy('enrollmentread');
    await expect(reader.getEnrollmentGroup('readable')).rejects.toMatchObject({
      response: { statusCode: 401 },
    });
  });
});
