import { jsonNestingBeyond, jsonNestingMessage, parseJson, renderSection } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { parseReportedPatch } from '../store/identity-input.ts';
import type { Registry } from '../store/registry.ts';
import type { Identity } from './device-sessions.ts';

/**
 * What a device or module asks of its own twin, answered the same over every transport (MQTT's
 * `$iothub/twin/...` topics, AMQP's twin link); each transport only frames the answer.
 */

/** The twin a device reads: its desired and reported properties, as IoT Hub renders them. */
export function twinForDevice(registry: Registry, identity: Identity): string {
  const twin = registry.get(identity.deviceId, identity.moduleId).twin;
  return JSON.stringify({
    desired: renderSection(twin.desired),
    reported: renderSection(twin.reported),
  });
}

/**
 * A reported-properties patch as the device sent it (bytes): checked (nesting, JSON, the twin
 * rules), applied, and the reported properties' new version answered; a HubError otherwise.
 */
export function patchReportedFromDevice(
  registry: Registry,
  identity: Identity,
  raw: Buffer,
): number {
  const deep = jsonNestingBeyond(raw);
  if (deep) throw new HubError('ArgumentInvalid', jsonNestingMessage(deep.position));
  let parsed;
  try {
    parsed = parseJson(raw.toString('utf8'));
  } catch {
    throw new HubError('ArgumentInvalid', 'The reported patch is not valid JSON.');
  }
  const record = registry.patchReported(
    identity.deviceId,
    identity.moduleId,
    parseReportedPatch(parsed),
  );
  return record.twin.reported.version;
}
