/** Direct methods over MQTT: who listens for them, calls waiting for an answer, and answers. */
import { randomUUID } from 'node:crypto';
import type { IPublishPacket } from 'mqtt-packet';
import { jsonNestingBeyond, parseJson, type JsonValue } from '@twinscope/twin';
import type { DeviceSessions } from '../devices/device-sessions.ts';
import { HubError } from '../errors.ts';
import type { Connection, Deliver } from './connection.ts';
import { METHODS_FILTER } from './topics.ts';

interface MethodResult {
  status: number;
  payload: JsonValue;
}

interface PendingMethod {
  resolve(result: MethodResult): void;
  timer: NodeJS.Timeout;
  clientId: string;
}

/** The direct-method calls waiting for an answer from the gateway's clients, by request id. */
export class DirectMethods {
  private readonly pending = new Map<string, PendingMethod>();

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
        (name, payload, timeout) => this.call(connection.clientId, name, payload, timeout),
      );
    } else if (!subscribed && connection.stopMethods) {
      connection.stopMethods();
      delete connection.stopMethods;
    }
  }

  /**
   * A direct method to one connected client: 404 DeviceNotOnline when it does not listen for
   * methods, 504 when it does not answer within `responseTimeoutSeconds`.
   */
  private call(
    clientId: string,
    methodName: string,
    payload: JsonValue,
    responseTimeoutSeconds: number,
  ): Promise<MethodResult> {
    const rid = randomUUID();
    return new Promise<MethodResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(
          new HubError(
            'GatewayTimeout',
            `${clientId} did not answer ${methodName} within ${responseTimeoutSeconds} s.`,
          ),
        );
      }, responseTimeoutSeconds * 1000);
      this.pending.set(rid, { resolve, timer, clientId });
      const sent = this.deliver(
        clientId,
        `$iothub/methods/POST/${encodeURIComponent(methodName)}/?$rid=${rid}`,
        JSON.stringify(payload ?? null),
      );
      if (!sent) {
        clearTimeout(timer);
        this.pending.delete(rid);
        reject(
          new HubError(
            'DeviceNotOnline',
            `${clientId} is not connected, or does not listen for direct methods.`,
          ),
        );
      }
    });
  }

  /** A client's answer to the call `rid`; only the client that was called may answer it. */
  answered(clientId: string, rid: string, status: number, body: IPublishPacket['payload']): void {
    const pending = this.pending.get(rid);
    if (!pending || pending.clientId !== clientId) return;
    this.pending.delete(rid);
    clearTimeout(pending.timer);
    let payload: JsonValue;
    const text = body.toString('utf8');
    try {
      // Nested past what can be sent on safely: passed on as the text it is.
      payload = text && !jsonNestingBeyond(text) ? parseJson(text) : text || null;
    } catch {
      payload = text;
    }
    pending.resolve({ status, payload });
  }

  /** The client is gone: its calls end as 404, as they would have had it never listened. */
  disconnected(clientId: string): void {
    for (const [rid, pending] of this.pending) {
      if (pending.clientId === clientId) {
        clearTimeout(pending.timer);
        this.pending.delete(rid);
        pending.resolve({ status: 404, payload: null });
      }
    }
  }

  close(): void {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
  }
}
