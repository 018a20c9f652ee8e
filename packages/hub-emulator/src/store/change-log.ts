import type { JsonObject } from '@twinscope/twin';

export type ChangeSource =
  'twinChangeEvents' | 'deviceLifecycleEvents' | 'deviceConnectionStateEvents' | 'Telemetry';
export type ChangeOperation =
  | 'updateTwin'
  | 'replaceTwin'
  | 'createDeviceIdentity'
  | 'deleteDeviceIdentity'
  | 'deviceConnected'
  | 'deviceDisconnected'
  | 'deviceTelemetry';

/** One entry of the hub's ordered internal change log. */
export interface ChangeEvent {
  sequenceNumber: number;
  enqueuedTime: string;
  source: ChangeSource;
  opType: ChangeOperation;
  deviceId: string;
  moduleId?: string;
  /** In IoT Hub's notification format: changed sections for updates, the twin otherwise. */
  body: JsonObject;
  /** For desired changes: the patch as the device receives it (nulls for removed keys). */
  desiredPatch?: JsonObject;
  /** For device-to-cloud messages: the payload and the property bag as sent. */
  message?: { payload: Buffer; properties: Record<string, string> };
}

export type ChangeListener = (event: ChangeEvent) => void;

/**
 * Keeps the most recent changes in order and tells listeners about new ones. Later
 * endpoints (MQTT desired notifications, the Event Hubs-compatible endpoint) read it.
 */
export class ChangeLog {
  /** A ring: once full, `recent[next]` is the oldest entry. */
  private readonly recent: ChangeEvent[] = [];
  private next = 0;
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly capacity = 10_000) {}

  publish(event: ChangeEvent): void {
    if (this.recent.length < this.capacity) this.recent.push(event);
    else this.recent[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error('change listener failed:', error instanceof Error ? error.message : error);
      }
    }
  }

  /** Changes after `sequenceNumber` that are still held. */
  since(sequenceNumber: number): ChangeEvent[] {
    const ordered =
      this.recent.length < this.capacity
        ? this.recent
        : [...this.recent.slice(this.next), ...this.recent.slice(0, this.next)];
    return ordered.filter((event) => event.sequenceNumber > sequenceNumber);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
