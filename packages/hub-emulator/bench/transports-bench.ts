// The device transports' figures, with Microsoft's unmodified SDKs as the clients: telemetry
// messages per second from one client per transport (up to 64 sends in flight), and
// cloud-to-device latency from the service's send to the device's receive.
import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import httpTransport from 'azure-iot-device-http';
import mqttTransport from 'azure-iot-device-mqtt';
import { portAgentFor, serviceClientFor } from '@twinscope/hub-connection';
import { benchCBatches } from './c-batch-bench.ts';

const { Client: DeviceClient, Message } = deviceSdk;
type DeviceClientType = InstanceType<typeof DeviceClient>;
type DeviceMessage = InstanceType<typeof Message>;

export interface TransportBenchHub {
  hostName: string;
  httpsPort: number;
  mqttPort: number;
  amqpsPort: number;
  ca: string;
  serviceConnectionString: string;
  /** Makes a device and answers its primary key. */
  createDevice(deviceId: string): Promise<string>;
}

const TRANSPORTS = [
  { name: 'MQTT', transport: mqttTransport.Mqtt, kind: 'mqtt' },
  { name: 'AMQP', transport: amqpTransport.Amqp, kind: 'amqp' },
  { name: 'MQTT over WebSockets', transport: mqttTransport.MqttWs, kind: 'ws' },
  { name: 'AMQP over WebSockets', transport: amqpTransport.AmqpWs, kind: 'ws' },
  { name: 'HTTPS', transport: httpTransport.Http, kind: 'http' },
] as const;
type Entry = (typeof TRANSPORTS)[number];

const IN_FLIGHT = 64;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function openDevice(hub: TransportBenchHub, entry: Entry, deviceId: string) {
  const key = await hub.createDevice(deviceId);
  // MQTT and AMQP carry their port in HostName; WebSockets and HTTPS dial 443, so the SDK's
  // agent options take them to the HTTPS port.
  const port = entry.kind === 'mqtt' ? hub.mqttPort : entry.kind === 'amqp' ? hub.amqpsPort : 0;
  const host = port ? `${hub.hostName}:${port}` : hub.hostName;
  const client = DeviceClient.fromConnectionString(
    `HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`,
    entry.transport,
  );
  const agent = portAgentFor({ port: hub.httpsPort, ca: hub.ca });
  await client.setOptions({
    ca: hub.ca,
    ...(entry.transport === mqttTransport.MqttWs ? { mqtt: { webSocketAgent: agent } } : {}),
    ...(entry.transport === amqpTransport.AmqpWs ? { amqp: { webSocketAgent: agent } } : {}),
    ...(entry.kind === 'http' ? { http: { agent, receivePolicy: { interval: 0.05 } } } : {}),
  });
  await client.open();
  return client;
}

/** Messages per second one client sends for `seconds`, with up to 64 sends in flight. */
async function telemetryRate(client: DeviceClientType, seconds: number): Promise<number> {
  const payload = JSON.stringify({ temperature: 21.5, humidity: 40, ts: new Date().toISOString() });
  const until = Date.now() + seconds * 1000;
  let sent = 0;
  const lane = async () => {
    while (Date.now() < until) {
      await client.sendEvent(new Message(payload));
      sent++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return sent / ((performance.now() - t0) / 1000);
}

/** Send → receive latency of `count` cloud-to-device messages, one at a time. */
async function cloudToDeviceLatency(
  hub: TransportBenchHub,
  device: DeviceClientType,
  deviceId: string,
  count: number,
): Promise<{ p50: number; p99: number }> {
  const service = serviceClientFor(hub.serviceConnectionString, {
    ca: hub.ca,
    amqpPort: hub.amqpsPort,
  });
  await service.open();
  const waiting = new Map<string, (message: DeviceMessage) => void>();
  device.on('message', (message: DeviceMessage) => {
    void device.complete(message).catch(() => undefined);
    waiting.get(String(message.messageId))?.(message);
  });
  // The first message also waits for the device's receive link or subscription.
  const samples: number[] = [];
  try {
    for (let i = 0; i <= count; i++) {
      const message = new Message(`c2d ${i}`);
      message.messageId = `bench-${i}`;
      const arrived = new Promise<void>((resolve) => waiting.set(`bench-${i}`, () => resolve()));
      const t0 = performance.now();
      await service.send(deviceId, message);
      await arrived;
      if (i > 0) samples.push(performance.now() - t0);
      waiting.delete(`bench-${i}`);
    }
  } finally {
    await service.close();
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Prints telemetry/s per transport and cloud-to-device latency per persistent transport. */
export async function benchTransports(
  hub: TransportBenchHub,
  options: { seconds: number; c2dMessages: number },
): Promise<void> {
  console.log(
    `  device transports (unmodified SDK clients, one client each, ${IN_FLIGHT} sends in flight):`,
  );
  let n = 0;
  for (const entry of TRANSPORTS) {
    const deviceId = `bench-${entry.name.replace(/\W+/g, '-').toLowerCase()}-${++n}`;
    const client = await openDevice(hub, entry, deviceId);
    try {
      const rate = await telemetryRate(client, options.seconds);
      const line = `    telemetry over ${entry.name}`.padEnd(41);
      const latency = await cloudToDeviceLatency(
        hub,
        client,
        deviceId,
        entry.kind === 'http' ? Math.min(options.c2dMessages, 50) : options.c2dMessages,
      );
      const c2d = `   C2D send→receive p50 ${latency.p50.toFixed(2)} ms  p99 ${latency.p99.toFixed(2)} ms${entry.kind === 'http' ? ' (the SDK polls every 50 ms)' : ''}`;
      console.log(`${line}${rate.toFixed(0).padStart(6)} /s${c2d}`);
    } finally {
      await client.close();
    }
  }
  const batched = await benchCBatches(hub, { seconds: options.seconds, batchSize: 10 });
  console.log(
    `${'    telemetry over AMQP, C batches of 10'.padEnd(41)}${batched.toFixed(0).padStart(6)} /s   (raw frames as the C SDK sends them)`,
  );
}
