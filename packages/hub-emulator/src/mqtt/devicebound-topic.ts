/** Cloud-to-device topics on IoT Hub's MQTT surface (pure). */
import type { CloudMessage } from '../c2d/cloud-to-device.ts';
import type { Identity } from './topics.ts';

/** The filter a device subscribes to for its cloud-to-device messages; modules have none. */
export function deviceboundFilter(identity: Identity): string | undefined {
  return identity.moduleId === undefined
    ? `devices/${identity.deviceId}/messages/devicebound/#`
    : undefined;
}

/**
 * A cloud-to-device message's properties as IoT Hub puts them in the topic: system
 * properties as `$.mid` and friends, then the application's, every key and value
 * percent-encoded (the SDK reads the whole bag as one topic segment).
 */
export function propertyBag(message: CloudMessage): string {
  const pairs: [string, string | undefined][] = [
    ['$.mid', message.messageId],
    ['$.to', `/devices/${message.deviceId}/messages/devicebound`],
    ['$.exp', new Date(message.expiryTime).toISOString()],
    ['$.cid', message.correlationId],
    ['$.uid', message.userId],
    ['$.ct', message.contentType],
    ['$.ce', message.contentEncoding],
    // Only when feedback was asked for: with `none` IoT Hub sends no iothub-ack (the SDK would
    // hand it to the app as a user property; Microsoft's device_service.js checks there is none).
    ['iothub-ack', message.ack === 'none' ? undefined : message.ack],
    ...Object.entries(message.properties),
  ];
  return pairs
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}
