import { isModelId } from './model-id.ts';
import type { JsonValue } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Registry } from '../store/registry.ts';

/** A device (`moduleId` undefined) or one of its modules. */
export interface Identity {
  deviceId: string;
  moduleId?: string;
}

export const identityKey = (identity: Identity): string =>
  identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`;

/** A transport's way of calling a direct method on one connected client. */
export type MethodCall = (
  methodName: string,
  payload: JsonValue,
  responseTimeoutSeconds: number,
) => Promise<{ status: number; payload: JsonValue }>;

/**
 * What jobs and the direct-method operation need of the device side: a method call on one
 * device or module, whatever transport it is connected by.
 */
export interface MethodInvoker {
  invokeMethod(
    identity: Identity,
    methodName: string,
    payload: JsonValue,
    responseTimeoutSeconds: number,
    connectTimeoutSeconds?: number,
  ): Promise<{ status: number; payload: JsonValue }>;
}

/**
 * The device side, whatever the transport (MQTT, AMQP, WebSockets): who is connected, and
 * who listens for direct methods. Connection state changes when the first transport
 * connection of an identity opens and when its last one closes, as IoT Hub reports it.
 */
export class DeviceSessions implements MethodInvoker {
  private readonly open = new Map<string, number>();
  private readonly methodListeners = new Map<string, MethodCall>();
  /** Invocations waiting for their target to come online (connectTimeoutInSeconds). */
  private readonly awaitingListener = new Map<string, Set<() => void>>();

  constructor(private readonly registry: Registry) {}

  connected(identity: Identity, modelId?: string): void {
    // A Plug and Play device's model, as it announced it (an id that is not a DTMI is
    // not recorded: IoT Hub keeps only model ids).
    if (modelId !== undefined && isModelId(modelId))
      this.registry.announceModel(identity.deviceId, identity.moduleId, modelId);
    const key = identityKey(identity);
    const count = (this.open.get(key) ?? 0) + 1;
    this.open.set(key, count);
    if (count === 1) this.registry.setConnectionState(identity.deviceId, identity.moduleId, true);
  }

  disconnected(identity: Identity): void {
    const key = identityKey(identity);
    const count = (this.open.get(key) ?? 0) - 1;
    if (count > 0) {
      this.open.set(key, count);
      return;
    }
    this.open.delete(key);
    this.registry.setConnectionState(identity.deviceId, identity.moduleId, false);
  }

  /**
   * A client listens for direct methods (subscribed on MQTT, attached on AMQP); the latest
   * listener wins, as a reconnecting client replaces its old connection. The returned
   * function stops listening, unless a newer listener took over.
   */
  listenForMethods(identity: Identity, call: MethodCall): () => void {
    const key = identityKey(identity);
    this.methodListeners.set(key, call);
    const waiting = this.awaitingListener.get(key);
    this.awaitingListener.delete(key);
    for (const wake of waiting ?? []) wake();
    return () => {
      if (this.methodListeners.get(key) === call) this.methodListeners.delete(key);
    };
  }

  /**
   * A direct method from the service. Nobody listening: it waits up to
   * `connectTimeoutSeconds` for the target to come online, then 404 DeviceNotOnline.
   */
  async invokeMethod(
    identity: Identity,
    methodName: string,
    payload: JsonValue,
    responseTimeoutSeconds: number,
    connectTimeoutSeconds = 0,
  ): Promise<{ status: number; payload: JsonValue }> {
    const key = identityKey(identity);
    if (!this.methodListeners.has(key) && connectTimeoutSeconds > 0)
      await this.untilListening(key, connectTimeoutSeconds * 1000);
    const call = this.methodListeners.get(key);
    if (!call) {
      throw new HubError(
        'DeviceNotOnline',
        `${key} is not connected, or does not listen for direct methods.`,
      );
    }
    return call(methodName, payload, responseTimeoutSeconds);
  }

  private untilListening(key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.awaitingListener.get(key) ?? new Set<() => void>();
      this.awaitingListener.set(key, waiting);
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        if (waiting.size === 0 && this.awaitingListener.get(key) === waiting)
          this.awaitingListener.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      timer.unref();
      waiting.add(wake);
    });
  }
}
