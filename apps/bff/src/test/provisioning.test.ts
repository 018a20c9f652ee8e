import { describe, expect, it } from 'vitest';
import type { ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { createTestTokenIssuer } from '@twinscope/hub-emulator';
import { provisionDevice } from '@twinscope/module-simulator';
import { useStack, type Harness } from './harness.ts';

/** What the module simulator reads of connection.json, for the in-process emulator. */
function connectionOf(stack: Harness): ConnectionFile {
  const emulator = stack.emulator;
  return {
    hostName: emulator.hostName,
    httpsPort: emulator.httpsPort,
    mqttPort: emulator.mqttPort,
    provisioning: {
      idScope: emulator.provisioning.idScope,
      serviceConnectionString: emulator.provisioning.serviceConnectionString,
      deviceEndpoint: emulator.provisioning.deviceEndpoint,
    },
  } as ConnectionFile;
}

const GROUP = {
  kind: 'group',
  id: 'field-sensors',
  attestation: { type: 'symmetricKey' },
  iotEdge: false,
  allocationPolicy: 'hashed',
  reprovision: 'reset',
  initialTwin: {
    tags: { site: 'oslo', provisionedBy: 'dps' },
    desired: { telemetry: { intervalSeconds: 30 } },
  },
};

describe('BFF: the Device Provisioning Service through azure-iot-provisioning-service', () => {
  const stack = useStack();

  it('when an Admin creates a group with an initial twin, then a device provisions through it, lands with that twin, and its page names the group', async () => {
    const created = await stack.api('/api/provisioning/groups/field-sensors', {
      method: 'PUT',
      json: GROUP,
    });
    expect(created.status).toBe(201);
    expect(created.body.enrollment).toMatchObject({
      kind: 'group',
      id: 'field-sensors',
      attestation: { type: 'symmetricKey' },
      enabled: true,
      reprovision: 'reset',
      initialTwin: GROUP.initialTwin,
    });
    // The keys DPS made stay in the BFF: not in this answer, nor in the listing.
    const overview = await stack.api('/api/provisioning');
    expect(overview.status).toBe(200);
    expect(overview.body).toMatchObject({ idScope: stack.emulator.provisioning.idScope });
    expect(overview.body.groups.map((g: { id: string }) => g.id)).toContain('field-sensors');
    const key = (
      await stack.emulator.provisioning.service.attestationMechanism('group', 'field-sensors')
    )['symmetricKey'] as { primaryKey: string };
    expect(JSON.stringify([created.body, overview.body])).not.toContain(key.primaryKey);

    // A device provisions itself with Microsoft's device SDK over MQTT, as in the field.
    const device = await provisionDevice({
      connection: connectionOf(stack),
      registrationId: 'oslo-sensor-001',
      groupId: 'field-sensors',
      ca: stack.emulator.tls.caCert,
    });
    expect(device.deviceId).toBe('oslo-sensor-001');
    const twin = (await stack.api('/api/devices/oslo-sensor-001')).body.twin;
    expect(twin.tags).toMatchObject(GROUP.initialTwin.tags);
    expect(twin.properties.desired.telemetry).toEqual({ intervalSeconds: 30 });

    const registrations = await stack.api('/api/provisioning/groups/field-sensors/registrations');
    expect(registrations.body.items).toEqual([
      expect.objectContaining({
        registrationId: 'oslo-sensor-001',
        deviceId: 'oslo-sensor-001',
        status: 'assigned',
        enrollmentGroupId: 'field-sensors',
      }),
    ]);
    const how = await stack.api('/api/devices/oslo-sensor-001/provisioning');
    expect(how.body).toMatchObject({
      configured: true,
      enrollment: { kind: 'group', id: 'field-sensors' },
      registration: { status: 'assigned', assignedHub: expect.any(String) },
    });
    // A device created directly in the hub was not provisioned.
    expect((await stack.api('/api/devices/berlin-b1-meter-03/provisioning')).body).toEqual({
      configured: true,
    });

    // Disabled (a change with the etag it was read with): the next registration is refused.
    const current = created.body.enrollment;
    const disabled = await stack.api('/api/provisioning/groups/field-sensors', {
      method: 'PUT',
      json: { ...GROUP, attestation: undefined, enabled: false, etag: current.etag },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.enrollment.enabled).toBe(false);
    await expect(
      provisionDevice({
        connection: connectionOf(stack),
        registrationId: 'oslo-sensor-002',
        groupId: 'field-sensors',
        ca: stack.emulator.tls.caCert,
      }),
    ).rejects.toThrow(/disabled/i);
    await expect(stack.registry.get('oslo-sensor-002')).rejects.toMatchObject({
      response: { statusCode: 404 },
    });
    // Creating it again (no etag) is refused: it would replace the group and its keys.
    const again = await stack.api('/api/provisioning/groups/field-sensors', {
      method: 'PUT',
      json: GROUP,
    });
    expect(again.status).toBe(412);
    expect(again.body.message).toMatch(/already exists/);
    // The keys survived the change (the update wrote back the attestation it read).
    expect(
      (await stack.emulator.provisioning.service.attestationMechanism('group', 'field-sensors'))[
        'symmetricKey'
      ],
    ).toEqual(key);
    // A stale etag is a conflict, never an overwrite.
    const stale = await stack.api('/api/provisioning/groups/field-sensors', {
      method: 'PUT',
      json: { ...GROUP, attestation: undefined, etag: current.etag },
    });
    expect(stale.status).toBe(412);
    expect(
      (await stack.api('/api/provisioning/groups/field-sensors')).body.enrollment.enabled,
    ).toBe(false);

    // The registration record deleted (the device may register afresh), then the group.
    const record = registrations.body.items[0];
    expect(
      (
        await stack.api(
          `/api/provisioning/registrations/oslo-sensor-001?etag=${encodeURIComponent(record.etag)}`,
          { method: 'DELETE' },
        )
      ).status,
    ).toBe(204);
    const latest = (await stack.api('/api/provisioning/groups/field-sensors')).body.enrollment;
    expect(
      (
        await stack.api(
          `/api/provisioning/groups/field-sensors?etag=${encodeURIComponent(latest.etag)}`,
          { method: 'DELETE' },
        )
      ).status,
    ).toBe(204);
    expect((await stack.api('/api/provisioning/groups/field-sensors')).status).toBe(404);

    // Every change is in the audit trail, naming the record and who did it.
    const audit = (await stack.api('/api/audit?kind=provisioning')).body.entries as any[];
    expect(
      audit
        .filter((e) => e.result === 'succeeded')
        .map((e) => [e.action, e.target.provisioning])
        .reverse(),
    ).toEqual([
      ['provisioning.group-create', { kind: 'group', id: 'field-sensors' }],
      ['provisioning.group-update', { kind: 'group', id: 'field-sensors' }],
      ['provisioning.registration-delete', { kind: 'registration', id: 'oslo-sensor-001' }],
      ['provisioning.group-delete', { kind: 'group', id: 'field-sensors' }],
    ]);
  });

  it('when an enrollment allocates through a webhook whose URL holds a key, then the key stays in the BFF and the service, and a change that leaves the URL out keeps it', async () => {
    const secret = 'c2VjcmV0LWZ1bmN0aW9uLWtleQ';
    const url = `https://allocate.example.net/api/allocate?code=${secret}`;
    const created = await stack.api('/api/provisioning/enrollments/webhook-device', {
      method: 'PUT',
      json: {
        kind: 'individual',
        id: 'webhook-device',
        attestation: { type: 'symmetricKey' },
        allocationPolicy: 'custom',
        customAllocation: { webhookUrl: url, apiVersion: '2021-10-01' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.enrollment.customAllocation).toEqual({
      webhook: 'https://allocate.example.net/api/allocate',
      hasQuery: true,
      apiVersion: '2021-10-01',
    });
    const changed = await stack.api('/api/provisioning/enrollments/webhook-device', {
      method: 'PUT',
      json: {
        kind: 'individual',
        id: 'webhook-device',
        allocationPolicy: 'custom',
        iotEdge: true,
        etag: created.body.enrollment.etag,
      },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.enrollment).toMatchObject({
      iotEdge: true,
      attestation: { type: 'symmetricKey' },
    });
    expect(
      stack.emulator.provisioning.service.getEnrollment('webhook-device')[
        'customAllocationDefinition'
      ],
    ).toMatchObject({ webhookUrl: url });
    const audit = await stack.api('/api/audit?kind=provisioning');
    const seen = JSON.stringify([
      created.body,
      changed.body,
      (await stack.api('/api/provisioning')).body,
      audit.body,
      stack.logLines,
    ]);
    expect(seen).toContain('webhook-device');
    expect(seen).not.toContain(secret);
  });

  it('when an enrollment breaks the twin rules or is malformed, then it is refused clearly and nothing is created', async () => {
    const bad = await stack.api('/api/provisioning/enrollments/bad-twin', {
      method: 'PUT',
      json: {
        kind: 'individual',
        id: 'bad-twin',
        attestation: { type: 'symmetricKey' },
        initialTwin: { tags: { 'has space': 1, $reserved: true }, desired: {} },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('twin_rule_violation');
    expect(bad.body.message).toMatch(/initial twin's tags/);
    const mismatch = await stack.api('/api/provisioning/enrollments/other', {
      method: 'PUT',
      json: { kind: 'individual', id: 'bad-twin', attestation: { type: 'symmetricKey' } },
    });
    expect(mismatch.status).toBe(400);
    const tpmGroup = await stack.api('/api/provisioning/groups/tpm-group', {
      method: 'PUT',
      json: { kind: 'group', id: 'tpm-group', attestation: { type: 'tpm', endorsementKey: 'AA' } },
    });
    expect(tpmGroup.status).toBe(400);
    expect(tpmGroup.body.message).toMatch(/TPM/);
    const notPem = await stack.api('/api/provisioning/enrollments/x509-device', {
      method: 'PUT',
      json: {
        kind: 'individual',
        id: 'x509-device',
        attestation: {
          type: 'x509',
          primary: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----',
        },
      },
    });
    expect(notPem.status).toBe(400);
    expect(notPem.body.message).not.toMatch(/at .*\.js|Error:/);
    for (const id of ['bad-twin', 'other', 'tpm-group', 'x509-device'])
      expect(
        (
          await stack.api(
            `/api/provisioning/${id === 'tpm-group' ? 'groups' : 'enrollments'}/${id}`,
          )
        ).status,
      ).toBe(404);
  });
});

describe('BFF: provisioning for a Reader', () => {
  const stack = useStack({ env: { TWINSCOPE_LOCAL_ROLE: 'Reader' } });

  it('when a Reader opens provisioning, then enrollments are readable and every change is refused by the policy', async () => {
    expect((await stack.api('/api/provisioning')).status).toBe(200);
    for (const [method, path] of [
      ['PUT', '/api/provisioning/groups/g1'],
      ['PUT', '/api/provisioning/enrollments/e1'],
      ['DELETE', '/api/provisioning/groups/g1'],
      ['DELETE', '/api/provisioning/enrollments/e1'],
      ['DELETE', '/api/provisioning/registrations/r1'],
    ] as const) {
      const refused = await stack.api(path, {
        method,
        ...(method === 'PUT' ? { json: { ...GROUP, id: 'g1' } } : {}),
      });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.message).toMatch(/needs the Admin role/);
    }
    expect(
      stack.emulator.provisioning.service.listGroups().map((g) => g['enrollmentGroupId']),
    ).not.toContain('g1');
  });
});

describe('BFF: a DPS reached with an Entra identity', () => {
  const BFF_IDENTITY = '55555555-5555-4555-8555-555555555555';
  const issuer = createTestTokenIssuer({
    [BFF_IDENTITY]: ['Device Provisioning Service Data Reader'],
  });
  const credential = issuer.credential(BFF_IDENTITY, {
    aud: 'https://azure-devices-provisioning.net',
  });
  const stack = useStack({
    emulator: { entra: issuer.access },
    provisioningCredential: credential,
  });

  it('when the BFF holds the DPS Data Reader role, then enrollments list and a change is refused with the reason', async () => {
    const overview = await stack.api('/api/provisioning');
    expect(overview.status).toBe(200);
    expect(overview.body.groups.map((g: { id: string }) => g.id)).toContain('demo-sensors');
    expect(credential.scopes).toContain('https://azure-devices-provisioning.net/.default');
    const change = await stack.api('/api/provisioning/groups/needs-contributor', {
      method: 'PUT',
      json: { ...GROUP, id: 'needs-contributor' },
    });
    expect(change.status).toBe(502);
    expect(change.body.message).toMatch(/refused Twinscope's credentials/);
    const log = stack.logLines.join('\n');
    expect(log).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+/);
  });
});
