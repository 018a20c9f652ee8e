import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EventHubConsumerClient,
  earliestEventPosition,
  latestEventPosition,
  type Checkpoint,
  type CheckpointStore,
  type PartitionOwnership,
} from '@azure/event-hubs';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../emulator.ts';
import { partitionFor } from '../events/event-store.ts';
import { sdkRegistry, uniqueId, useHub } from './hub.ts';
import { useEventConsumers } from './event-consumers.ts';

const { track, collect } = useEventConsumers();

/** The checkpoint store an app would keep in memory (v6 ships only the interface). */
class InMemoryCheckpointStore implements CheckpointStore {
  readonly checkpoints = new Map<string, Checkpoint>();
  private readonly ownerships = new Map<string, PartitionOwnership>();
  async listOwnership(): Promise<PartitionOwnership[]> {
    return [...this.ownerships.values()];
  }
  async claimOwnership(claims: PartitionOwnership[]): Promise<PartitionOwnership[]> {
    return claims.map((claim) => {
      const owned = { ...claim, etag: String(Math.random()), lastModifiedTimeInMs: Date.now() };
      this.ownerships.set(claim.partitionId, owned);
      return owned;
    });
  }
  async updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.checkpoints.set(checkpoint.partitionId, checkpoint);
  }
  async listCheckpoints(): Promise<Checkpoint[]> {
    return [...this.checkpoints.values()];
  }
}

describe('Emulator: the Event Hubs-compatible endpoint with the unmodified @azure/event-hubs', () => {
  const hub = useHub({
    seed: 'demo',
    routes: [
      'DeviceMessages',
      'TwinChangeEvents',
      'DeviceLifecycleEvents',
      'DeviceConnectionStateEvents',
    ],
    consumerGroups: ['twinscope'],
  });
  const consumer = (
    group = '$default',
    connectionString = hub.emulator.events.connectionString,
  ) => {
    const client = new EventHubConsumerClient(group, connectionString);
    track(client);
    return client;
  };

  it('when asked about the hub, then it names its partitions and their positions ($management READ)', async () => {
    const client = consumer();
    const properties = await client.getEventHubProperties();
    expect(properties.name).toBe(hub.emulator.events.name);
    expect(properties.partitionIds).toEqual(['0', '1', '2', '3']);
    const partition = await client.getPartitionProperties('1');
    expect(partition).toMatchObject({ partitionId: '1', eventHubName: hub.emulator.events.name });
    expect(typeof partition.lastEnqueuedSequenceNumber).toBe('number');
  });

  it('when a twin changes, then a subscriber from latest gets IoT Hub’s twin change event', async () => {
    const deviceId = 'berlin-b1-meter-03';
    const received = collect(consumer('$Default'), latestEventPosition);
    // Latest means after the subscription is in place.
    await received.attached();
    const twin = (await hub.registry.getTwin(deviceId)).responseBody;
    await hub.registry.updateTwin(deviceId, { tags: { eventsTest: 1 } }, twin.etag);
    const event = await received.until(
      (e) => e.properties?.['deviceId'] === deviceId && e.properties?.['opType'] === 'updateTwin',
    );
    expect(event.systemProperties).toMatchObject({
      'iothub-connection-device-id': deviceId,
      'iothub-message-source': 'twinChangeEvents',
    });
    expect(event.properties).toMatchObject({
      hubName: hub.emulator.events.name,
      deviceId,
      'iothub-message-schema': 'twinChangeNotification',
    });
    expect(typeof event.properties?.['operationTimestamp']).toBe('string');
    expect(event.contentType).toBe('application/json');
    const body = event.body as { version: number; tags: Record<string, unknown> };
    expect(body.tags).toMatchObject({ eventsTest: 1 });
    expect(body.version).toBe((twin as unknown as { version: number }).version + 1);
    expect(typeof event.sequenceNumber).toBe('number');
    expect(event.enqueuedTimeUtc).toBeInstanceOf(Date);
  });

  it('when a device connects and disconnects, then connection state events arrive in order, as IoT Hub sends them', async () => {
    const deviceId = uniqueId('events-connection');
    await hub.registry.create({ deviceId });
    const received = collect(consumer('$Default'), earliestEventPosition);
    const client = deviceSdk.Client.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId),
      mqttTransport.Mqtt,
    );
    await client.setOptions({ ca: hub.emulator.tls.caCert });
    await client.open();
    await client.close();
    const connected = await received.until(
      (e) =>
        e.properties?.['deviceId'] === deviceId && e.properties?.['opType'] === 'deviceConnected',
    );
    const disconnected = await received.until(
      (e) =>
        e.properties?.['deviceId'] === deviceId &&
        e.properties?.['opType'] === 'deviceDisconnected',
    );
    for (const event of [connected, disconnected]) {
      expect(event.systemProperties?.['iothub-message-source']).toBe('deviceConnectionStateEvents');
      expect(event.systemProperties?.['iothub-connection-device-id']).toBe(deviceId);
      expect(event.properties).toMatchObject({
        hubName: hub.emulator.events.name,
        'iothub-message-schema': 'deviceConnectionStateNotification',
      });
      expect((event.body as { sequenceNumber: string }).sequenceNumber).toMatch(/^[0-9a-f]{64}$/);
    }
    const first = (connected.body as { sequenceNumber: string }).sequenceNumber;
    const second = (disconnected.body as { sequenceNumber: string }).sequenceNumber;
    expect(first < second).toBe(true);
  });

  it('when a module is created and a device sends telemetry, then lifecycle and device messages arrive too', async () => {
    const deviceId = uniqueId('events-device');
    const received = collect(consumer('twinscope'), earliestEventPosition);
    await hub.registry.create({ deviceId });
    const lifecycle = await received.until(
      (e) =>
        e.properties?.['deviceId'] === deviceId &&
        e.properties?.['opType'] === 'createDeviceIdentity',
    );
    expect(lifecycle.systemProperties?.['iothub-message-source']).toBe('deviceLifecycleEvents');
    expect(lifecycle.properties?.['iothub-message-schema']).toBe('deviceLifecycleNotification');

    const client = deviceSdk.Client.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId),
      mqttTransport.Mqtt,
    );
    await client.setOptions({ ca: hub.emulator.tls.caCert });
    await client.open();
    const message = new deviceSdk.Message(JSON.stringify({ celsius: 21.5 }));
    message.properties.add('alert', 'none');
    message.messageId = 'msg-1';
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    await client.sendEvent(message);
    await client.close();
    const telemetry = await received.until(
      (e) =>
        e.systemProperties?.['iothub-connection-device-id'] === deviceId &&
        e.systemProperties?.['iothub-message-source'] === 'Telemetry',
    );
    expect(telemetry.body).toEqual({ celsius: 21.5 });
    expect(telemetry.properties).toMatchObject({ alert: 'none' });
    expect(telemetry.messageId).toBe('msg-1');
  });

  it('when starting at a sequence number, then reading resumes right after it; checkpoints record where each partition is', async () => {
    const deviceId = 'lyon-north-gateway-07';
    const store = new InMemoryCheckpointStore();
    const first = new EventHubConsumerClient(
      '$Default',
      hub.emulator.events.connectionString,
      store,
    );
    track(first);
    for (const n of [1, 2, 3]) {
      const twin = (await hub.registry.getTwin(deviceId)).responseBody;
      await hub.registry.updateTwin(deviceId, { tags: { step: n } }, twin.etag);
    }
    // The device's partition, read from the start with checkpoints kept in the store.
    const partitionId = String(partitionFor(deviceId, hub.emulator.events.partitionCount));
    const all = collect(first, earliestEventPosition, { partitionId });
    const second = await all.until(
      (e) => e.properties?.['deviceId'] === deviceId && (e.body as any)?.tags?.step === 2,
    );
    const third = await all.until(
      (e) => e.properties?.['deviceId'] === deviceId && (e.body as any)?.tags?.step === 3,
    );
    // The partition is checkpointed at (or past) the third change.
    await expect
      .poll(() => store.checkpoints.get(partitionId)?.sequenceNumber ?? -1)
      .toBeGreaterThanOrEqual(third.sequenceNumber);

    // Resume after the second change: only the third comes, nothing before it.
    const resumed = collect(consumer(), {
      [partitionId]: { sequenceNumber: second.sequenceNumber, isInclusive: false },
    });
    const next = await resumed.until((e) => e.properties?.['deviceId'] === deviceId);
    expect((next.body as any).tags.step).toBe(3);
    expect(next.sequenceNumber).toBe(second.sequenceNumber + 1);
  });

  it('when a consumer tracks the last enqueued event, then every batch says where its partition ends (the receiver runtime metric its lag is read from)', async () => {
    const deviceId = uniqueId('events-lag');
    await hub.registry.create({ deviceId });
    for (const n of [1, 2, 3]) {
      const twin = (await hub.registry.getTwin(deviceId)).responseBody;
      await hub.registry.updateTwin(deviceId, { tags: { step: n } }, twin.etag);
    }
    const partitionId = String(partitionFor(deviceId, hub.emulator.events.partitionCount));
    const client = consumer();
    const end = (await client.getPartitionProperties(partitionId)).lastEnqueuedSequenceNumber;
    // One event a batch from the start: each batch is told the partition's end.
    const seen: { sequenceNumber: number; lastEnqueued: number | undefined }[] = [];
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (events, context) => {
          for (const event of events)
            seen.push({
              sequenceNumber: event.sequenceNumber,
              lastEnqueued: context.lastEnqueuedEventProperties?.sequenceNumber,
            });
        },
        processError: async () => {},
      },
      {
        startPosition: earliestEventPosition,
        maxBatchSize: 1,
        trackLastEnqueuedEventProperties: true,
      },
    );
    try {
      await expect.poll(() => seen.at(-1)?.sequenceNumber, { timeout: 10_000 }).toBe(end);
    } finally {
      await subscription.close();
    }
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((s) => s.lastEnqueued === end)).toBe(true);
  });

  it('when a device sends an empty message and then another, then resuming after the empty one by its offset yields the other', async () => {
    const deviceId = uniqueId('events-empty');
    await hub.registry.create({ deviceId });
    const partitionId = String(partitionFor(deviceId, hub.emulator.events.partitionCount));
    const received = collect(consumer(), earliestEventPosition, { partitionId });
    const client = deviceSdk.Client.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId),
      mqttTransport.Mqtt,
    );
    await client.setOptions({ ca: hub.emulator.tls.caCert });
    await client.open();
    const empty = new deviceSdk.Message('');
    empty.messageId = 'empty';
    const full = new deviceSdk.Message('{"after":"empty"}');
    full.messageId = 'full';
    await client.sendEvent(empty);
    await client.sendEvent(full);
    await client.close();
    const fromDevice =
      (id: string) => (e: { messageId?: unknown; systemProperties?: Record<string, unknown> }) =>
        e.systemProperties?.['iothub-connection-device-id'] === deviceId && e.messageId === id;
    const first = await received.until(fromDevice('empty'));
    const second = await received.until(fromDevice('full'));
    expect(second.offset).not.toBe(first.offset);

    const resumed = collect(consumer(), {
      [partitionId]: { offset: first.offset, isInclusive: false },
    });
    const next = await resumed.until(
      (e) => e.systemProperties?.['iothub-connection-device-id'] === deviceId,
    );
    expect(next.messageId).toBe('full');
  });
});

describe('Emulator: the Event Hubs-compatible endpoint refuses clearly', () => {
  const hub = useHub({ consumerGroups: ['twinscope'] });
  const consumer = (
    group = '$default',
    connectionString = hub.emulator.events.connectionString,
    maxRetries = 1,
  ) => {
    const client = new EventHubConsumerClient(group, connectionString, {
      retryOptions: { maxRetries, retryDelayInMs: 100, timeoutInMs: 5000 },
    });
    track(client);
    return client;
  };

  it('when the key is wrong, the consumer group unknown or the partition missing, then the SDK gets a clear error', async () => {
    const wrongKey = hub.emulator.events.connectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    let refusal: (Error & { code?: string }) | undefined;
    try {
      await consumer('$Default', wrongKey, 0).getEventHubProperties();
    } catch (error) {
      refusal = error as Error & { code?: string };
    }
    expect(refusal?.code).toBe('UnauthorizedError');
    expect(refusal?.message).toMatch(/signature is not valid/);
    const errors: Error[] = [];
    collect(consumer('nobody'), latestEventPosition, { onError: (e) => errors.push(e) });
    await expect
      .poll(() => errors.map((e) => e.message).join(' '), { timeout: 8000 })
      .toMatch(/consumer group 'nobody' does not exist/);
    await expect(consumer().getPartitionProperties('9')).rejects.toThrow(
      /partition '9' does not exist/i,
    );
  });
});

describe('Emulator: events are kept with the rest of the state', () => {
  it('when the emulator restarts on its data dir, then earlier events can still be read, numbered as before', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'events-'));
    const options = {
      dataDir,
      httpsPort: 0,
      mqttPort: 0,
      seed: 'demo' as const,
      routes: ['TwinChangeEvents' as const],
    };
    let emulator = await startEmulator(options);
    const registry = sdkRegistry(emulator.serviceConnectionString, emulator.tls.caCert);
    const twin = (await registry.getTwin('toronto-hq-hvac-12')).responseBody;
    await registry.updateTwin('toronto-hq-hvac-12', { tags: { persisted: true } }, twin.etag);
    const before = [0, 1, 2, 3].map((p) => emulator.events.store.info(p));
    await emulator.close();

    emulator = await startEmulator(options);
    try {
      const after = [0, 1, 2, 3].map((p) => emulator.events.store.info(p));
      expect(after).toEqual(before);
      const client = new EventHubConsumerClient('$Default', emulator.events.connectionString);
      track(client);
      const received = collect(client, earliestEventPosition);
      const event = await received.until(
        (e) => e.properties?.['deviceId'] === 'toronto-hq-hvac-12',
      );
      expect((event.body as any).tags).toEqual({ persisted: true });
    } finally {
      await emulator.close();
    }
  });
});
