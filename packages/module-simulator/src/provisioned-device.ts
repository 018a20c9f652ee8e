// A device that provisions itself on first boot, as a fleet's devices do: it holds its
// registration id and the key derived from its enrollment group's key, registers with the
// Device Provisioning Service over MQTT (Microsoft's unmodified provisioning SDK), and runs
// with the hub and device id the service assigned it.
import { createHmac } from 'node:crypto';
import { request } from 'node:https';
import mqttBase from 'azure-iot-mqtt-base';
import provisioningDevice from 'azure-iot-provisioning-device';
import provisioningMqtt from 'azure-iot-provisioning-device-mqtt';
import symmetricKey from 'azure-iot-security-symmetric-key';
import type { ConnectionFile } from '@twinscope/hub-emulator/connection-file';

/** A group member's key: HMAC-SHA256 of its registration id under the group's key. */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}

function sasToken(resource: string, keyName: string, key: string): string {
  const sr = encodeURIComponent(resource);
  const se = Math.floor(Date.now() / 1000) + 3600;
  const sig = createHmac('sha256', Buffer.from(key, 'base64'))
    .update(`${sr}\n${se}`)
    .digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${keyName}`;
}

/**
 * The group's primary key, read through the provisioning service's API (as the tool that
 * flashes devices at the factory reads it).
 */
async function groupKey(connection: ConnectionFile, groupId: string, ca?: string): Promise<string> {
  const provisioning = connection.provisioning;
  if (!provisioning) throw new Error('connection.json has no provisioning section');
  const keyName = /SharedAccessKeyName=([^;]+)/.exec(provisioning.serviceConnectionString)?.[1];
  const key = /SharedAccessKey=([^;]+)/.exec(provisioning.serviceConnectionString)?.[1];
  if (!keyName || !key) throw new Error('the provisioning connection string has no key');
  const text = await new Promise<string>((resolve, reject) => {
    const call = request(
      {
        host: connection.hostName,
        port: connection.httpsPort,
        method: 'POST',
        path: `/enrollmentGroups/${encodeURIComponent(groupId)}/attestationmechanism?api-version=2021-10-01`,
        headers: { authorization: sasToken(connection.hostName, keyName, key) },
        ...(ca ? { ca } : {}),
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(body)
            : reject(new Error(`enrollment group ${groupId}: ${response.statusCode} ${body}`)),
        );
      },
    );
    call.on('error', reject);
    call.end();
  });
  const primary = (JSON.parse(text) as { symmetricKey?: { primaryKey?: string } }).symmetricKey
    ?.primaryKey;
  if (!primary) throw new Error(`enrollment group ${groupId} does not attest with symmetric keys`);
  return primary;
}

/** Registers `registrationId` through `groupId`; answers its device connection string. */
export async function provisionDevice(options: {
  connection: ConnectionFile;
  registrationId: string;
  groupId: string;
  ca?: string;
}): Promise<{ connectionString: string; deviceId: string; assignedHub: string }> {
  const { connection, registrationId, groupId, ca } = options;
  const key = deriveDeviceKey(await groupKey(connection, groupId, ca), registrationId);
  const base = new mqttBase.MqttBase();
  if (ca) base.setOptions({ ca } as never);
  const transport = new provisioningMqtt.Mqtt(base as never);
  // The device SDK dials the service's MQTT port (8883) unless the host names another.
  const host =
    connection.mqttPort === 8883
      ? connection.provisioning!.deviceEndpoint
      : `${connection.provisioning!.deviceEndpoint}:${connection.mqttPort}`;
  const client = provisioningDevice.ProvisioningDeviceClient.create(
    host,
    connection.provisioning!.idScope,
    transport as never,
    new symmetricKey.SymmetricKeySecurityClient(registrationId, key) as never,
  );
  const result = (await client.register()) as { assignedHub: string; deviceId: string };
  return {
    connectionString: `HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${key}`,
    deviceId: result.deviceId,
    assignedHub: result.assignedHub,
  };
}
