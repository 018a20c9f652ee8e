import type { IncomingHttpHeaders } from 'node:http';
import { D2C_MAX_BYTES, messageSize } from '../devices/message-size.ts';
import { isJsonObject, jsonNestingBeyond, parseJson, type JsonValue } from '@twinscope/twin';
import type { CloudMessage } from '../c2d/cloud-to-device.ts';
import type { Identity } from '../devices/device-sessions.ts';
import { HubError } from '../errors.ts';
import type { Operation, OperationContext } from '../http/operation.ts';

/** IoT Hub's largest device-to-cloud message. */
const BATCH_CONTENT_TYPE = 'application/vnd.microsoft.iothub.json';

/** System properties as the HTTPS transport names them, and as routing reads them. */
const SYSTEM_HEADERS: Record<string, string> = {
  'iothub-messageid': '$.mid',
  'iothub-correlationid': '$.cid',
  'iothub-userid': '$.uid',
  'iothub-contenttype': '$.ct',
  'iothub-contentencoding': '$.ce',
};

/** A message's properties from `iothub-*` names (headers, or a batch item's properties). */
function propertiesFrom(entries: [string, unknown][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    if (value === undefined || value === null) continue;
    const name = rawName.toLowerCase();
    const text = Array.isArray(value) ? value.join(',') : String(value);
    if (SYSTEM_HEADERS[name]) out[SYSTEM_HEADERS[name]!] = text;
    else if (name.startsWith('iothub-app-')) out[rawName.slice('iothub-app-'.length)] = text;
    // A Plug and Play component's name, as routing reads it from MQTT's `$.sub`.
    else if (name === 'dt-subject') out['$.sub'] = text;
  }
  return out;
}

function requireDevice(context: OperationContext): Identity {
  const identity = context.identity;
  if (!identity) throw new HubError('IotHubUnauthorizedAccess', 'A device token is required.');
  return identity;
}

function record(context: OperationContext, payload: Buffer, properties: Record<string, string>) {
  const identity = requireDevice(context);
  if (messageSize(payload, properties) > D2C_MAX_BYTES) {
    throw new HubError(
      'RequestEntityTooLarge',
      `Messages are limited to ${D2C_MAX_BYTES / 1024} KB.`,
    );
  }
  context.registry.recordMessage(identity.deviceId, identity.moduleId, payload, properties);
}

/** `POST /devices/{id}/messages/events`: one message (raw body), or a batch (JSON array). */
function sendEvents(context: OperationContext) {
  const identity = requireDevice(context);
  context.registry.get(identity.deviceId, identity.moduleId);
  context.registry.touch(identity.deviceId, identity.moduleId);
  const body = context.rawBody ?? Buffer.alloc(0);
  const contentType = String(context.headers['content-type'] ?? '').toLowerCase();
  if (!contentType.startsWith(BATCH_CONTENT_TYPE)) {
    record(context, body, propertiesFrom(Object.entries(headersOf(context.headers))));
    return { status: 204 };
  }
  if (jsonNestingBeyond(body)) throw new HubError('ArgumentInvalid', 'The batch nests too deep.');
  let items: JsonValue;
  try {
    items = parseJson(body.toString('utf8'));
  } catch {
    throw new HubError('IotHubFormatError', 'The batch is not valid JSON.');
  }
  if (!Array.isArray(items) || items.length === 0)
    throw new HubError('ArgumentInvalid', 'A batch is a JSON array of {"body": base64} items.');
  const messages = items.map((item) => {
    if (!isJsonObject(item) || typeof item['body'] !== 'string')
      throw new HubError('ArgumentInvalid', 'Each batch item needs a base64 "body".');
    const properties = isJsonObject(item['properties']) ? item['properties'] : {};
    return {
      payload: Buffer.from(item['body'], 'base64'),
      properties: propertiesFrom(Object.entries(properties)),
    };
  });
  // Every item is checked before any is recorded: a batch is taken whole or not at all.
  if (messages.reduce((n, m) => n + m.payload.length, 0) > D2C_MAX_BYTES)
    throw new HubError(
      'RequestEntityTooLarge',
      `A batch is limited to ${D2C_MAX_BYTES / 1024} KB.`,
    );
  for (const message of messages) record(context, message.payload, message.properties);
  return { status: 204 };
}

function headersOf(headers: IncomingHttpHeaders): Record<string, unknown> {
  return headers as Record<string, unknown>;
}

/** The cloud-to-device queue of the device a request speaks for (modules have none). */
function queueOf(context: OperationContext) {
  const identity = requireDevice(context);
  if (identity.moduleId !== undefined)
    throw new HubError('ArgumentInvalid', 'Modules have no cloud-to-device queue.');
  if (!context.cloudToDevice)
    throw new HubError('ServiceUnavailable', 'Cloud-to-device messaging is not running.');
  return { identity, c2d: context.cloudToDevice };
}

/** A queued message as the HTTPS transport reads it: headers, and the body as it is. */
function messageHeaders(message: CloudMessage, lockToken: string): Record<string, string> {
  const headers: Record<string, string> = {
    ETag: `"${lockToken}"`,
    'iothub-to': `/devices/${message.deviceId}/messages/devicebound`,
    'iothub-expiry': new Date(message.expiryTime).toISOString(),
    'iothub-ack': message.ack,
    'iothub-sequencenumber': String(message.seq),
    'iothub-enqueuedtime': new Date(message.enqueuedTime).toISOString(),
    'iothub-deliverycount': String(message.deliveryCount),
  };
  if (message.messageId !== undefined) headers['iothub-messageid'] = message.messageId;
  if (message.correlationId !== undefined) headers['iothub-correlationid'] = message.correlationId;
  if (message.userId !== undefined) headers['iothub-userid'] = message.userId;
  if (message.contentType !== undefined) headers['iothub-contenttype'] = message.contentType;
  if (message.contentEncoding !== undefined)
    headers['iothub-contentencoding'] = message.contentEncoding;
  // Header values must be printable ASCII; anything else travels percent-encoded.
  for (const [key, value] of Object.entries(message.properties))
    if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key))
      headers[`iothub-app-${key}`] = /^[\x20-\x7e]*$/.test(value)
        ? value
        : encodeURIComponent(value);
  return headers;
}

const deviceSide = { rights: ['DeviceConnect'], deviceSide: true } as const;

/** The device side of the HTTPS transport (azure-iot-device-http), on the service port. */
export const deviceOperations: Operation[] = [
  {
    name: 'send-device-events',
    method: 'POST',
    path: '/devices/{deviceId}/messages/events',
    ...deviceSide,
    rights: ['DeviceConnect'],
    body: 'raw',
    handle: sendEvents,
  },
  {
    name: 'receive-cloud-to-device',
    method: 'GET',
    path: '/devices/{deviceId}/messages/devicebound',
    ...deviceSide,
    rights: ['DeviceConnect'],
    handle(context) {
      const { identity, c2d } = queueOf(context);
      context.registry.touch(identity.deviceId, undefined);
      const next = c2d.next(identity);
      if (!next) return { status: 204 };
      return {
        status: 200,
        raw: next.message.body,
        headers: messageHeaders(next.message, next.lockToken),
      };
    },
  },
  {
    name: 'complete-cloud-to-device',
    method: 'DELETE',
    path: '/devices/{deviceId}/messages/devicebound/{lockToken}',
    ...deviceSide,
    rights: ['DeviceConnect'],
    handle(context) {
      const { identity, c2d } = queueOf(context);
      const lockToken = context.params['lockToken']!;
      if (context.query.has('reject')) c2d.reject(identity, lockToken);
      else c2d.complete(identity, lockToken);
      return { status: 204 };
    },
  },
  {
    name: 'abandon-cloud-to-device',
    method: 'POST',
    path: '/devices/{deviceId}/messages/devicebound/{lockToken}/abandon',
    ...deviceSide,
    rights: ['DeviceConnect'],
    handle(context) {
      const { identity, c2d } = queueOf(context);
      c2d.abandon(identity, context.params['lockToken']!);
      return { status: 204 };
    },
  },
];
