import { randomUUID } from 'node:crypto';
import { jsonNestingBeyond, parseJson, type JsonValue } from '@twinscope/twin';
import { HubError } from '../errors.ts';

/** A device's answer to a direct method: its status and payload. */
export interface MethodResult {
  status: number;
  payload: JsonValue;
}

interface Pending {
  resolve(result: MethodResult): void;
  timer: NodeJS.Timeout;
  /** Who was called (an identity's key or an MQTT client id): only it may answer. */
  callee: string;
}

/**
 * Direct-method calls waiting for their answers, by request id, for every transport: each
 * call fails with GatewayTimeout when unanswered in its timeout, and an answer's body is
 * passed on as JSON when it is JSON (as the text it is otherwise, or nested too deep to pass
 * on safely; nothing is null). The transport only puts the call and the answer on its wire.
 */
export class PendingMethodCalls {
  private readonly pending = new Map<string, Pending>();

  /**
   * Calls `callee`: `send` puts the call with its request id on the wire and answers false
   * when it could not (DeviceNotOnline: not connected, or not listening for methods).
   */
  call(
    callee: string,
    methodName: string,
    timeoutSeconds: number,
    send: (requestId: string) => boolean,
  ): Promise<MethodResult> {
    const requestId = randomUUID();
    return new Promise<MethodResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new HubError(
            'GatewayTimeout',
            `${callee} did not answer ${methodName} within ${timeoutSeconds} s.`,
          ),
        );
      }, timeoutSeconds * 1000);
      this.pending.set(requestId, { resolve, timer, callee });
      if (send(requestId)) return;
      clearTimeout(timer);
      this.pending.delete(requestId);
      reject(
        new HubError(
          'DeviceNotOnline',
          `${callee} is not connected, or does not listen for direct methods.`,
        ),
      );
    });
  }

  /** The answer to call `requestId`, from `callee` (another's answer to it is ignored). */
  answered(requestId: string, callee: string, status: number, body: Buffer): void {
    const call = this.pending.get(requestId);
    if (!call || call.callee !== callee) return;
    this.pending.delete(requestId);
    clearTimeout(call.timer);
    const text = body.toString('utf8');
    let payload: JsonValue = null;
    if (text) {
      try {
        payload = jsonNestingBeyond(text) ? text : parseJson(text);
      } catch {
        payload = text;
      }
    }
    call.resolve({ status, payload });
  }

  /** `callee` is gone: its calls end as 404, as they would have had it never listened. */
  gone(callee: string): void {
    for (const [requestId, call] of this.pending) {
      if (call.callee !== callee) continue;
      clearTimeout(call.timer);
      this.pending.delete(requestId);
      call.resolve({ status: 404, payload: null });
    }
  }

  close(): void {
    for (const call of this.pending.values()) clearTimeout(call.timer);
  }
}
