/** The state one MQTT connection carries, which the gateway and its handlers share. */
import type { Duplex } from 'node:stream';
import mqtt, { type Packet } from 'mqtt-packet';
import type { Identity } from './topics.ts';

/** Subscriptions kept per client id across reconnects when clean = false (the SDK relies on it). */
export interface Session {
  subscriptions: Map<string, 0 | 1>;
}

/** Cloud-to-device deliveries: published QoS 1 and waiting for their PUBACK (= complete). */
export interface CloudToDeviceState {
  stop(): void;
  /** Lock tokens by the packet id they were published with. */
  inFlight: Map<number, string>;
}

export interface Connection {
  socket: Duplex;
  clientId: string;
  identity: Identity;
  session: Session;
  nextPacketId: number;
  keepAlive?: NodeJS.Timeout;
  tokenExpiry?: NodeJS.Timeout;
  /** Stops this connection listening for direct methods. */
  stopMethods?: () => void;
  c2d?: CloudToDeviceState;
}

/**
 * Publishes QoS 0 to the client connected under this id, if it subscribed to a matching
 * filter; answers whether it did.
 */
export type Deliver = (clientId: string, topic: string, payload: Buffer | string) => boolean;

export function send(socket: Duplex, packet: Packet): void {
  if (!socket.destroyed) socket.write(mqtt.generate(packet));
}
