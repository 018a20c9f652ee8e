/** What a device or module publishes: twin requests, method answers and telemetry. */
import type { IPublishPacket } from 'mqtt-packet';
import { deviceErrorBody, HubError } from '../errors.ts';
import { patchReportedFromDevice, twinForDevice } from '../devices/twin-requests.ts';
import type { Registry } from '../store/registry.ts';
import { send, type Connection, type Deliver } from './connection.ts';
import type { DirectMethods } from './direct-methods.ts';
import { classifyPublish, type Identity } from './topics.ts';

export interface PublishContext {
  registry: Registry;
  methods: DirectMethods;
  deliver: Deliver;
  log(line: string): void;
}

export function handlePublish(
  connection: Connection,
  packet: IPublishPacket,
  context: PublishContext,
): void {
  const { identity } = connection;
  const { registry } = context;
  const message = classifyPublish(packet.topic, identity);
  const ack = () => {
    if (packet.qos === 1 && packet.messageId !== undefined) {
      send(connection.socket, { cmd: 'puback', messageId: packet.messageId });
    }
  };
  registry.touch(identity.deviceId, identity.moduleId);
  switch (message.kind) {
    case 'twin-get': {
      const { topic, body } = twinGet(registry, identity, message.rid);
      ack();
      context.deliver(connection.clientId, topic, body);
      return;
    }
    case 'twin-reported': {
      const { topic, body } = reportedPatch(registry, identity, message.rid, packet.payload);
      ack();
      context.deliver(connection.clientId, topic, body);
      return;
    }
    case 'method-response':
      ack();
      context.methods.answered(connection.clientId, message.rid, message.status, packet.payload);
      return;
    case 'telemetry':
      registry.recordMessage(
        identity.deviceId,
        identity.moduleId,
        Buffer.from(packet.payload),
        Object.fromEntries(message.properties),
      );
      ack();
      return;
    default:
      context.log(
        `mqtt: ${connection.clientId} published to ${packet.topic}, which IoT Hub does not accept`,
      );
      connection.socket.destroy();
  }
}

interface TwinResponse {
  topic: string;
  body: Buffer | string;
}

function twinGet(registry: Registry, identity: Identity, rid: string): TwinResponse {
  try {
    return { topic: `$iothub/twin/res/200/?$rid=${rid}`, body: twinForDevice(registry, identity) };
  } catch (error) {
    return errorResponse(error, rid);
  }
}

function reportedPatch(
  registry: Registry,
  identity: Identity,
  rid: string,
  payload: IPublishPacket['payload'],
): TwinResponse {
  try {
    const version = patchReportedFromDevice(registry, identity, Buffer.from(payload));
    return { topic: `$iothub/twin/res/204/?$rid=${rid}&$version=${version}`, body: '' };
  } catch (error) {
    return errorResponse(error, rid);
  }
}

function errorResponse(error: unknown, rid: string): TwinResponse {
  return {
    topic: `$iothub/twin/res/${error instanceof HubError ? error.status : 500}/?$rid=${rid}`,
    body: deviceErrorBody(error),
  };
}
