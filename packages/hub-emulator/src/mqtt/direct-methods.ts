/** Direct methods over MQTT: who listens for them, calls waiting for an answer, and answers. */
import type { IPublishPacket } from 'mqtt-packet';
import type { DeviceSessions } from '../devices/device-sessions.ts';
import { PendingMethodCalls } from '../devices/method-calls.ts';
import type { Connection, Deliver } from './connection.ts';
import { METHODS_FILTER } from './topics.ts';

/** The direct-method calls to the gateway's clients, by client id: who listens, and the calls waiting. */
export class DirectMethods {
  private readonly pending = new PendingMethodCalls();

  constructor(
    private readonly sessions: DeviceSessions,
    private readonly deliver: Deliver,
  ) {}

  /**
   * A client listens for direct methods while it is subscribed to them (as IoT Hub sees it:
   * a method sent before the subscription could not reach it), so a call waiting for it to
   * come online is delivered once it can be.
   */
  steer(connection: Connection): void {
    const subscribed = connection.session.subscriptions.has(METHODS_FILTER);
    if (subscribed && !connection.stopMethods) {
      connection.stopMethods = this.sessions.listenForMethods(
        connection.identity,
        (name, payload, timeout) =>
          this.pending.call(connection.clientId, name, timeout, (rid) =>
            this.deliver(
              connection.clientId,
              `$iothub/methods/POST/${encodeURIComponent(name)}/?$rid=${rid}`,
              JSON.stringify(payload ?? null),
            ),
          ),
      );
    } else if (!subscribed && connection.stopMethods) {
      connection.stopMethods();
      delete connection.stopMethods;
    }
  }

  /** A client's answer to the call `rid`; only the client that was called may answer it. */
  answered(clientId: string, rid: string, status: number, body: IPublishPacket['payload']): void {
    this.pending.answered(rid, clientId, status, Buffer.from(body));
  }

  /** The client is gone: its calls end as 404, as they would have had it never listened. */
  disconnected(clientId: string): void {
    this.pending.gone(clientId);
  }

  close(): void {
    this.pending.close();
  }
}
