import { randomUUID } from 'node:crypto';
import type { ChangeEvent, ChangeLog, ChangeSource } from '../store/change-log.ts';
import type { EventStore, PropertyValue, RoutedMessage } from './event-store.ts';

/** Route sources as IoT Hub names them; each can be sent to the built-in endpoint. */
export type RouteSource =
  'DeviceMessages' | 'TwinChangeEvents' | 'DeviceLifecycleEvents' | 'DeviceConnectionStateEvents';

const SOURCE_OF: Record<ChangeSource, RouteSource> = {
  Telemetry: 'DeviceMessages',
  twinChangeEvents: 'TwinChangeEvents',
  deviceLifecycleEvents: 'DeviceLifecycleEvents',
  deviceConnectionStateEvents: 'DeviceConnectionStateEvents',
};

const SCHEMA: Partial<Record<ChangeSource, string>> = {
  twinChangeEvents: 'twinChangeNotification',
  deviceLifecycleEvents: 'deviceLifecycleNotification',
  deviceConnectionStateEvents: 'deviceConnectionStateNotification',
};

/** IoT Hub's system properties on device messages, as the MQTT topic's property bag names them. */
const SYSTEM_PROPERTIES: Record<string, string> = {
  '$.mid': 'message_id',
  '$.cid': 'correlation_id',
  '$.uid': 'user_id',
  '$.to': 'to',
  '$.ct': 'content_type',
  '$.ce': 'content_encoding',
};

/** A change in IoT Hub's routed-message format for the built-in endpoint. */
export function routedMessage(event: ChangeEvent, hubName: string): RoutedMessage {
  const identity: Record<string, PropertyValue> = {
    'iothub-connection-device-id': event.deviceId,
    ...(event.moduleId !== undefined ? { 'iothub-connection-module-id': event.moduleId } : {}),
  };
  const enqueued = Date.parse(event.enqueuedTime);
  if (event.source === 'Telemetry' && event.message) {
    const properties: Record<string, string> = {};
    const applicationProperties: Record<string, PropertyValue> = {};
    for (const [key, value] of Object.entries(event.message.properties)) {
      const system = SYSTEM_PROPERTIES[key];
      if (system) properties[system] = value;
      else if (!key.startsWith('$.')) applicationProperties[key] = value;
    }
    const output = event.message.properties['$.on'];
    // A Plug and Play component's name: `$.sub` on MQTT, the `dt-subject` annotation on
    // AMQP, the `dt-subject` header on HTTPS; IoT Hub routes it as the `dt-subject` annotation.
    const component = event.message.properties['$.sub'];
    return {
      partitionKey: event.deviceId,
      body: event.message.payload,
      properties,
      applicationProperties,
      annotations: {
        ...identity,
        'iothub-connection-auth-method': JSON.stringify({
          scope: event.moduleId === undefined ? 'device' : 'module',
          type: 'sas',
          issuer: 'iothub',
          acceptingIpFilterRule: null,
        }),
        'iothub-enqueuedtime': enqueued,
        'iothub-message-source': 'Telemetry',
        ...(output ? { 'iothub-outputname': output } : {}),
        ...(component ? { 'dt-subject': component } : {}),
      },
    };
  }
  return {
    partitionKey: event.deviceId,
    body: Buffer.from(JSON.stringify(event.body), 'utf8'),
    properties: {
      content_type: 'application/json',
      content_encoding: 'utf-8',
      correlation_id: randomUUID(),
      user_id: hubName,
    },
    applicationProperties: {
      hubName,
      deviceId: event.deviceId,
      ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
      opType: event.opType,
      operationTimestamp: event.enqueuedTime,
      'iothub-message-schema': SCHEMA[event.source] ?? event.source,
    },
    annotations: {
      ...identity,
      'iothub-enqueuedtime': enqueued,
      'iothub-message-source': event.source,
    },
  };
}

/**
 * Message routing to the built-in endpoint, as configured on the emulator like a hub's
 * routes: each change whose source has a route becomes a message on its device's partition.
 */
export function routeChanges(
  changes: ChangeLog,
  store: EventStore,
  routes: ReadonlySet<RouteSource>,
  hubName: string,
): () => void {
  return changes.subscribe((event) => {
    if (!routes.has(SOURCE_OF[event.source])) return;
    store.append(routedMessage(event, hubName));
  });
}
