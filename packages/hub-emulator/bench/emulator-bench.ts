// Prints the emulator's figures: twin PATCH throughput, device GET latency, and query
// latency over a 100k-device fleet; then telemetry/s and cloud-to-device latency per device
// transport (transports-bench.ts). The emulator runs as its own process (as operators run
// it); this process is the client. Loopback only; it stops by itself.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSasToken } from '../src/auth/sas.ts';
import { spawnEmulator } from '../src/spawn.ts';
import { benchTransports } from './transports-bench.ts';

const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100_000);
const PATCH_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const C2D_MESSAGES = Number(process.env['BENCH_C2D_MESSAGES'] ?? 200);
const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-'));

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

const started = Date.now();
// Seeding a large fleet takes a while before the banner; give it time.
const hub = await spawnEmulator({
  dataDir,
  // BENCH_HOST_NAME: the hub's host name (default the emulator's, 127.0.0.1), e.g. localhost
  // to compare with builds whose default it was.
  args: [
    '--seed',
    String(DEVICES),
    ...(process.env['BENCH_HOST_NAME'] ? ['--host-name', process.env['BENCH_HOST_NAME']] : []),
  ],
  readyTimeoutMs: 30 * 60_000,
});
const startupMs = Date.now() - started;
const { connection } = hub;
const key = /SharedAccessKey=([^;]+)/.exec(connection.serviceConnectionString)![1]!;
let token = '';
let tokenMinted = 0;
const authorization = () => {
  if (Date.now() - tokenMinted > 60_000) {
    token = createSasToken(
      connection.hostName,
      key,
      Math.floor(Date.now() / 1000) + 3600,
      'iothubowner',
    );
    tokenMinted = Date.now();
  }
  return token;
};

function call(
  agent: Agent,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  return new Promise<{ status: number; text: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(
        {
          host: 'localhost',
          port: connection.httpsPort,
          method,
          path: `${path}${path.includes('?') ? '&' : '?'}api-version=2021-04-12`,
          agent,
          headers: {
            Authorization: authorization(),
            ...(body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    },
  );
}

async function patchThroughput(connections: number): Promise<number> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: connections,
    ca: readFileSync(connection.caCertFile),
  });
  const until = Date.now() + PATCH_SECONDS * 1000;
  let done = 0;
  const worker = async (lane: number) => {
    let i = 0;
    while (Date.now() < until) {
      const deviceId = `device-${String((lane * 7919 + i++) % DEVICES).padStart(6, '0')}`;
      const response = await call(
        agent,
        'PATCH',
        `/twins/${deviceId}`,
        JSON.stringify({ properties: { desired: { setpoint: i } } }),
        { 'If-Match': '"*"' },
      );
      if (response.status !== 200)
        throw new Error(`PATCH answered ${response.status}: ${response.text}`);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, lane) => worker(lane)));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return done / seconds;
}

async function latencies(
  agent: Agent,
  n: number,
  send: (i: number) => Promise<{ status: number; text: string }>,
) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const response = await send(i);
    samples.push(performance.now() - t0);
    if (response.status !== 200)
      throw new Error(`answered ${response.status}: ${response.text.slice(0, 200)}`);
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

try {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: readFileSync(connection.caCertFile),
  });
  const sequential = await patchThroughput(1);
  const concurrent = await patchThroughput(8);
  const get = await latencies(agent, 2000, (i) =>
    call(agent, 'GET', `/devices/device-${String((i * 37) % DEVICES).padStart(6, '0')}`),
  );
  const query = (q: string, headers: Record<string, string> = {}) =>
    call(agent, 'POST', '/devices/query', JSON.stringify({ query: q }), headers);
  const tagPage = await latencies(agent, 30, () =>
    query("SELECT * FROM devices WHERE tags.site = 'osaka' AND tags.role = 'camera'", {
      'x-ms-max-item-count': '100',
    }),
  );
  const firstPage = await query("SELECT * FROM devices WHERE tags.site = 'osaka'", {
    'x-ms-max-item-count': '100',
  });
  const continuation = String(firstPage.headers['x-ms-continuation']);
  const laterPage = await latencies(agent, 30, () =>
    query("SELECT * FROM devices WHERE tags.site = 'osaka'", {
      'x-ms-max-item-count': '100',
      'x-ms-continuation': continuation,
    }),
  );
  const groupBy = await latencies(agent, 20, () =>
    query('SELECT tags.site AS site, COUNT() AS devices FROM devices GROUP BY tags.site'),
  );
  const countWhere = await latencies(agent, 20, () =>
    query(
      "SELECT COUNT() AS n FROM devices WHERE tags.role = 'hvac' AND properties.reported.firmware.version = '1.9.0'",
    ),
  );
  agent.destroy();

  console.log(
    `hub-emulator benchmark (${DEVICES.toLocaleString('en')} devices, emulator in its own process, loopback, journal without fsync)`,
  );
  console.log(`  start with --seed ${DEVICES}            ${(startupMs / 1000).toFixed(1)} s`);
  console.log(`  twin PATCH, 1 keep-alive connection    ${sequential.toFixed(0)} /s`);
  console.log(`  twin PATCH, 8 keep-alive connections   ${concurrent.toFixed(0)} /s`);
  console.log(`  device GET                             p50 ${ms(get.p50)}  p99 ${ms(get.p99)}`);
  console.log(
    `  SELECT * tag filter, page of 100       p50 ${ms(tagPage.p50)}  p99 ${ms(tagPage.p99)}`,
  );
  console.log(
    `  SELECT * tag filter, a later page      p50 ${ms(laterPage.p50)}  p99 ${ms(laterPage.p99)}`,
  );
  console.log(
    `  SELECT COUNT() … GROUP BY tags.site    p50 ${ms(groupBy.p50)}  p99 ${ms(groupBy.p99)}`,
  );
  console.log(
    `  SELECT COUNT() … WHERE tags + reported p50 ${ms(countWhere.p50)}  p99 ${ms(countWhere.p99)}`,
  );

  const deviceAgent = new Agent({ keepAlive: true, ca: readFileSync(connection.caCertFile) });
  await benchTransports(
    {
      hostName: connection.hostName,
      httpsPort: connection.httpsPort,
      mqttPort: connection.mqttPort,
      amqpsPort: connection.amqpsPort,
      ca: readFileSync(connection.caCertFile, 'utf8'),
      serviceConnectionString: connection.serviceConnectionString,
      async createDevice(deviceId) {
        const created = await call(deviceAgent, 'PUT', `/devices/${deviceId}`, '{}');
        if (created.status !== 200) throw new Error(`PUT device answered ${created.status}`);
        return (
          JSON.parse(created.text) as { authentication: { symmetricKey: { primaryKey: string } } }
        ).authentication.symmetricKey.primaryKey;
      },
    },
    { seconds: PATCH_SECONDS, c2dMessages: C2D_MESSAGES },
  );
  deviceAgent.destroy();
} finally {
  await hub.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
