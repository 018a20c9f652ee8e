// Live telemetry end to end: devices send through the emulator (MQTT, the unmodified device
// SDK) to the hub's Event Hubs-compatible endpoint, the BFF's one consumer reads it, and tabs
// watching each device get it over SSE. Prints send → tab latency (p50/p99), whether every
// message below the per-tab limit arrived, the exact drop count above it, and the BFF's CPU
// and memory. Emulator and BFF run in their own processes; everything stays on loopback.
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { registryFor } from '@twinscope/hub-connection';
import {
  benchDir,
  changeHeaders,
  cpuSeconds,
  ms,
  percentile,
  rssMb,
  startBffProcess,
  startEmulatorProcess,
  stopProcesses,
  untilEventHubsFeed,
} from './bench-kit.ts';

const RATE = Number(process.env['BENCH_RATE'] ?? 1000);
const TABS = Number(process.env['BENCH_TABS'] ?? 50);
const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 20);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const PER_TAB = 100;
const PORT = 3294;
const bff = `http://127.0.0.1:${PORT}`;
const dataDir = benchDir('telemetry-bench-');

interface Tab {
  streamId: string;
  latencies: number[];
  received: Map<string, number>;
  dropped: number;
  close(): void;
}

/** One SSE client: records each telemetry message's age on arrival, and drop notices. */
function openTab(): Promise<Tab> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let tab: Tab | undefined;
    const req = request(`${bff}/api/events`, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = Date.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (!data) continue;
          if (!tab) {
            const streamId = /"streamId":"([^"]+)"/.exec(data)?.[1];
            if (streamId) {
              tab = {
                streamId,
                latencies: [],
                received: new Map(),
                dropped: 0,
                close: () => req.destroy(),
              };
              resolve(tab);
            }
            continue;
          }
          const event = JSON.parse(data) as {
            type: string;
            deviceId?: string;
            dropped?: number;
            body?: { value?: { sentAt?: number } };
          };
          if (event.type === 'telemetry' && event.body?.value?.sentAt) {
            tab.latencies.push(now - event.body.value.sentAt);
            tab.received.set(event.deviceId!, (tab.received.get(event.deviceId!) ?? 0) + 1);
          } else if (event.type === 'telemetry-dropped') {
            tab.dropped += event.dropped ?? 0;
          }
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

try {
  const progress = (line: string) => process.stderr.write(`telemetry-bench: ${line}\n`);
  const { connectionFile, connection } = await startEmulatorProcess(dataDir, 'demo');
  const ca = readFileSync(connection.caCertFile, 'utf8');
  const bffProcess = await startBffProcess(connectionFile, PORT, {
    TWINSCOPE_STREAMS_PER_SESSION: String(TABS + 10),
    TWINSCOPE_STREAMS_MAX: String(TABS + 10),
    TWINSCOPE_TELEMETRY_PER_TAB: String(PER_TAB),
  });
  progress('emulator and BFF up');
  const registry = registryFor(connection.serviceConnectionString, { ca });
  const deviceIds = Array.from({ length: DEVICES }, (_, i) => `tele-bench-${i}`);
  await registry.addDevices(deviceIds.map((deviceId) => ({ deviceId })));
  const clients = await Promise.all(
    deviceIds.map(async (deviceId) => {
      const { responseBody } = await registry.get(deviceId);
      const key = responseBody.authentication?.symmetricKey?.primaryKey;
      const client = deviceSdk.Client.fromConnectionString(
        `HostName=${connection.hostName}:${connection.mqttPort};DeviceId=${deviceId};SharedAccessKey=${key}`,
        mqttTransport.Mqtt,
      );
      await client.setOptions({ ca });
      await client.open();
      return client;
    }),
  );
  progress(`${DEVICES} devices connected`);

  // Wait until the BFF reads the endpoint, then open the tabs: each watches one device
  // (below the per-tab limit); the last watches four (above it).
  const headers = await changeHeaders(bff);
  await untilEventHubsFeed(bff);
  const tabs = await Promise.all(Array.from({ length: TABS }, () => openTab()));
  const perDevice = RATE / DEVICES;
  const overloaded = tabs[TABS - 1]!;
  const overloadedDevices = deviceIds.slice(0, Math.ceil((PER_TAB * 2) / perDevice));
  await Promise.all(
    tabs.map((tab, i) =>
      fetch(`${bff}/api/events/${tab.streamId}/telemetry`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          targets: (tab === overloaded ? overloadedDevices : [deviceIds[i % DEVICES]!]).map(
            (deviceId) => ({ deviceId }),
          ),
        }),
      }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 500));

  progress(`sending ${RATE} messages/s for ${SECONDS} s into ${TABS} tabs`);
  const sent = new Map<string, number>();
  const cpuBefore = cpuSeconds(bffProcess.pid!);
  const startedAt = Date.now();
  const tickMs = 50;
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      ticks++;
      const due = Math.round((RATE * tickMs) / 1000);
      for (let i = 0; i < due; i++) {
        const index = (ticks * due + i) % DEVICES;
        const deviceId = deviceIds[index]!;
        const message = new deviceSdk.Message(
          JSON.stringify({ sentAt: Date.now(), celsius: 21.5 }),
        );
        message.contentType = 'application/json';
        message.contentEncoding = 'utf-8';
        sent.set(deviceId, (sent.get(deviceId) ?? 0) + 1);
        void clients[index]!.sendEvent(message);
      }
      if (Date.now() - startedAt >= SECONDS * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  const elapsed = (Date.now() - startedAt) / 1000;
  // Let the last messages (and the last drop notices, once a second) arrive.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const cpu = cpuSeconds(bffProcess.pid!) - cpuBefore;
  const memory = rssMb(bffProcess.pid!);

  const normal = tabs.filter((tab) => tab !== overloaded);
  const latencies = normal.flatMap((tab) => tab.latencies);
  let lost = 0;
  normal.forEach((tab, i) => {
    const deviceId = deviceIds[i % DEVICES]!;
    lost += (sent.get(deviceId) ?? 0) - (tab.received.get(deviceId) ?? 0);
  });
  const overloadSent = overloadedDevices.reduce((sum, d) => sum + (sent.get(d) ?? 0), 0);
  const overloadGot = [...overloaded.received.values()].reduce((sum, n) => sum + n, 0);
  const totalSent = [...sent.values()].reduce((sum, n) => sum + n, 0);

  console.log(
    `telemetry benchmark (${DEVICES} devices over MQTT → emulator → Event Hubs-compatible endpoint → BFF consumer → ${TABS} SSE tabs; own processes, loopback)`,
  );
  console.log(
    `  sent ${totalSent} messages in ${elapsed.toFixed(1)} s (${(totalSent / elapsed).toFixed(0)}/s); per-tab limit ${PER_TAB}/s`,
  );
  console.log(
    `  ${normal.length} tabs below the limit (${perDevice}/s each): ${latencies.length} delivered, ${lost} lost; send → tab p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}  (target p99 ≤ 250 ms)`,
  );
  console.log(
    `  1 tab above the limit (${overloadedDevices.length} devices, ${perDevice * overloadedDevices.length}/s): ${overloadGot} delivered + ${overloaded.dropped} counted as dropped = ${overloadGot + overloaded.dropped} of ${overloadSent} sent`,
  );
  console.log(
    `  BFF CPU ${((cpu / (elapsed + 3)) * 100).toFixed(0)}% of one core; resident memory ${memory.toFixed(0)} MB`,
  );
  tabs.forEach((tab) => tab.close());
  await Promise.all(clients.map((client) => client.close()));
} finally {
  await stopProcesses();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
