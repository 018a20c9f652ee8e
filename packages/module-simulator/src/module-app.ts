import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import httpTransport from 'azure-iot-device-http';
import mqttTransport from 'azure-iot-device-mqtt';
import { portAgentFor } from '@twinscope/hub-connection';

const { ModuleClient, Client: DeviceClient, Message } = deviceSdk;

export type Log = (line: string) => void;

/** The SDK transports a module app can use; AMQP is the how-to's (ModuleClient's default). */
export const TRANSPORTS = ['amqp', 'mqtt', 'amqpws', 'mqttws'] as const;
/** A device can also use HTTPS (telemetry and cloud-to-device only: no twin, no methods). */
export const DEVICE_TRANSPORTS = [...TRANSPORTS, 'http'] as const;
export type Transport = (typeof DEVICE_TRANSPORTS)[number];

/**
 * Where the hub listens, per protocol, when not on the ports the SDKs dial (MQTT 8883,
 * AMQP 5671, WebSockets 443): one HostName cannot carry a port per transport.
 */
export interface HubPorts {
  mqtt?: number;
  amqp?: number;
  /** The HTTPS port, which also serves the WebSocket transports. */
  https?: number;
}

export interface ModuleOptions {
  ca?: string;
  log: Log;
  /** Default: AMQP, as the how-to's `ModuleClient.CreateFromConnectionString`. */
  transport?: Transport;
  ports?: HubPorts;
  /** Telemetry every this many seconds until the twin's desired `telemetryInterval` says. */
  telemetryIntervalSeconds?: number;
}

export const TRANSPORT_CTOR = {
  amqp: amqpTransport.Amqp,
  mqtt: mqttTransport.Mqtt,
  amqpws: amqpTransport.AmqpWs,
  mqttws: mqttTransport.MqttWs,
  http: httpTransport.Http,
} as const;

/**
 * The connection string and SDK options for a transport: HostName carries the transport's
 * port when it is not the SDK's default; the WebSocket transports always dial 443, so they
 * get an agent that dials the hub's HTTPS port instead.
 */
export function connectionFor(
  connectionString: string,
  transport: Transport,
  ports: HubPorts | undefined,
  ca: string | undefined,
) {
  const bare = connectionString.replace(/HostName=([^;:]+):\d+/, 'HostName=$1');
  const withPort = (port: number | undefined, sdkDefault: number) =>
    port === undefined
      ? connectionString
      : port === sdkDefault
        ? bare
        : bare.replace(/HostName=([^;]+)/, `HostName=$1:${port}`);
  if (transport === 'http') {
    // Device HTTPS dials 443 whatever HostName says: an agent reaches another port. The
    // SDK's HTTP transport answers setOptions only when given a receive policy (once a
    // second is its default poll).
    const agent =
      ports?.https !== undefined && ports.https !== 443
        ? portAgentFor({ port: ports.https, ...(ca ? { ca } : {}) })
        : undefined;
    return {
      connectionString: bare,
      options: {
        ...(ca ? { ca } : {}),
        http: { ...(agent ? { agent } : {}), receivePolicy: { interval: 1 } },
      },
    };
  }
  if (transport === 'mqtt' || transport === 'amqp') {
    return {
      connectionString:
        transport === 'mqtt' ? withPort(ports?.mqtt, 8883) : withPort(ports?.amqp, 5671),
      options: ca ? { ca } : {},
    };
  }
  const webSocketAgent =
    ports?.https !== undefined && ports.https !== 443
      ? portAgentFor({ port: ports.https, ...(ca ? { ca } : {}) })
      : undefined;
  const protocol = transport === 'mqttws' ? 'mqtt' : 'amqp';
  return {
    connectionString: bare,
    options: {
      ...(ca ? { ca } : {}),
      ...(webSocketAgent ? { [protocol]: { webSocketAgent } } : {}),
    },
  };
}

export interface RunningModule {
  /** `device/module` (or the device id), for log lines. */
  name: string;
  stop(): Promise<void>;
}

type AnyClient = InstanceType<typeof ModuleClient> | InstanceType<typeof DeviceClient>;
type Twin = Awaited<ReturnType<InstanceType<typeof ModuleClient>['getTwin']>>;
type CloudMessage = InstanceType<typeof Message>;

function report(twin: Twin, patch: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) =>
    twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve())),
  );
}

function nameOf(connectionString: string): string {
  const device = /DeviceId=([^;]+)/.exec(connectionString)?.[1] ?? '?';
  const module = /ModuleId=([^;]+)/.exec(connectionString)?.[1];
  return module === undefined ? device : `${device}/${module}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type MethodHandler = (
  request: deviceSdk.DeviceMethodRequest,
  response: deviceSdk.DeviceMethodResponse,
) => void;

/** A direct method handler, on a module (`onMethod`) or a device (`onDeviceMethod`). */
function onMethod(client: AnyClient, name: string, handler: MethodHandler): void {
  // The SDK always hands both; its callback type makes them optional.
  const callback = (
    request?: deviceSdk.DeviceMethodRequest,
    response?: deviceSdk.DeviceMethodResponse,
  ) => {
    if (request && response) handler(request, response);
  };
  if (client instanceof ModuleClient) client.onMethod(name, callback);
  else client.onDeviceMethod(name, callback);
}

/** The longest a simulated reboot takes, whatever the payload asks. */
const MAX_REBOOT_SECONDS = 60;

/** One boot of the app: a connected client and what it runs; `stop` closes it. */
interface Boot {
  stop(): Promise<void>;
}

interface App {
  kind: 'module' | 'device';
  connectionString: string;
  options: ModuleOptions;
  transport: Transport;
  log: Log;
  /** Closes the client, waits, and boots again (the `reboot` method). */
  reboot(delaySeconds: number): void;
}

/** A reading from the simulated sensor, as the telemetry body. */
function reading(sequence: number) {
  return {
    temperature: Math.round((20 + 5 * Math.sin(sequence / 10) + Math.random()) * 100) / 100,
    humidity: Math.round((45 + 10 * Math.cos(sequence / 7)) * 10) / 10,
    sequence,
    sentAt: new Date().toISOString(),
  };
}

/** Connects, then runs the how-to's twin handling, direct methods, telemetry and C2D. */
async function boot(app: App): Promise<Boot> {
  const { options, transport, log } = app;
  const connection = connectionFor(app.connectionString, transport, options.ports, options.ca);
  const Ctor = app.kind === 'module' ? ModuleClient : DeviceClient;
  const client: AnyClient = Ctor.fromConnectionString(
    connection.connectionString,
    TRANSPORT_CTOR[transport],
  );
  await client.setOptions(connection.options);
  client.on('error', (error: Error) => log(`client error: ${error.message}`));
  log(`connecting over ${transport}`);
  await client.open();

  let telemetry: NodeJS.Timeout | undefined;
  let sequence = 0;
  const sendTelemetry = () => {
    const message = new Message(JSON.stringify(reading(++sequence)));
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('source', 'simulator');
    client.sendEvent(message).catch((error: Error) => log(`telemetry not sent: ${error.message}`));
  };
  const setTelemetryInterval = (seconds: unknown) => {
    clearInterval(telemetry);
    telemetry = undefined;
    if (typeof seconds !== 'number' || !(seconds > 0)) return;
    telemetry = setInterval(sendTelemetry, Math.max(0.05, seconds) * 1000);
    log(`telemetry every ${seconds} s`);
  };
  setTelemetryInterval(options.telemetryIntervalSeconds);

  if (app.kind === 'device') {
    // Cloud-to-device: completed, unless the message asks to be rejected and the transport
    // can reject (MQTT cannot: the SDK completes on PUBACK).
    (client as InstanceType<typeof DeviceClient>).on('message', (message: CloudMessage) => {
      const body = message.getBytes().toString('utf8');
      // Over HTTPS the SDK keeps the header's name (iothub-app-reject) as the property name.
      const asksReject =
        message.properties.getValue('reject') === 'true' ||
        message.properties.getValue('iothub-app-reject') === 'true';
      const settle =
        asksReject && transport !== 'mqtt' && transport !== 'mqttws'
          ? client.reject(message)
          : client.complete(message);
      settle.then(
        () =>
          log(
            `message ${message.messageId ?? ''} ${asksReject && transport !== 'mqtt' && transport !== 'mqttws' ? 'rejected' : 'completed'}: ${body.slice(0, 200)}`,
          ),
        (error: Error) => log(`message not settled: ${error.message}`),
      );
    });
  }

  if (transport !== 'http') {
    onMethod(client, 'ping', (request, response) => {
      log('method ping');
      void response.send(200, {
        pong: true,
        at: new Date().toISOString(),
        echo: request.payload ?? null,
      });
    });
    onMethod(client, 'reboot', (request, response) => {
      const asked = Number((request.payload as { delaySeconds?: unknown } | null)?.delaySeconds);
      const delay = Number.isFinite(asked) ? Math.min(MAX_REBOOT_SECONDS, Math.max(0, asked)) : 3;
      log(`method reboot: reconnecting in ${delay} s`);
      void response.send(200, { rebootingInSeconds: delay }).then(() => app.reboot(delay));
    });
    onMethod(client, 'fail', (request, response) => {
      const asked = Number((request.payload as { status?: unknown } | null)?.status);
      const status = Number.isInteger(asked) && asked >= 400 && asked <= 599 ? asked : 500;
      log(`method fail: answering ${status}`);
      void response.send(status, { error: 'The simulator fails this method on purpose.' });
    });

    log('connected; reading the twin');
    const twin = await client.getTwin();
    log(
      `twin: ${JSON.stringify({ desired: twin.properties.desired, reported: twin.properties.reported })}`,
    );
    if (twin.properties.desired['telemetryInterval'] !== undefined)
      setTelemetryInterval(twin.properties.desired['telemetryInterval']);
    const launchVersion = Number(twin.properties.desired['$version'] ?? 0);
    twin.on('properties.desired', (delta: Record<string, unknown>) => {
      // The SDK first replays the desired document it already has; the how-to reacts to changes.
      if (Number(delta['$version'] ?? 0) <= launchVersion) return;
      const changes = Object.entries(delta).filter(([key]) => !key.startsWith('$'));
      if (changes.length === 0) return;
      const reported: Record<string, unknown> = {};
      for (const [key, value] of changes) {
        log(`desired ${key} = ${JSON.stringify(value)}`);
        reported[key] = value;
        if (key === 'telemetryInterval') setTelemetryInterval(value);
      }
      reported['DateTimeLastDesiredPropertyChangeReceived'] = new Date().toISOString();
      report(twin, reported).then(
        () => log(`acknowledged desired $version ${String(delta['$version'])} in reported`),
        (error: Error) => log(`could not report: ${error.message}`),
      );
    });
    // Reported after the desired handler is in place: on AMQP the handler's subscription goes
    // out on the twin link first, so once launch is reported, desired changes are pushed.
    await report(twin, { DateTimeLastAppLaunch: new Date().toISOString() });
    log('reported DateTimeLastAppLaunch');
  } else {
    log('connected over HTTPS: telemetry and cloud-to-device only (no twin or methods)');
  }

  return {
    async stop() {
      clearInterval(telemetry);
      await client.close();
    },
  };
}

/** Runs the app until stopped, booting again after a `reboot` method. */
async function runApp(
  kind: 'module' | 'device',
  connectionString: string,
  options: ModuleOptions,
): Promise<RunningModule> {
  const name = nameOf(connectionString);
  const transport = options.transport ?? 'amqp';
  if (kind === 'module' && transport === 'http')
    throw new Error('modules cannot use HTTPS: choose amqp, mqtt, amqpws or mqttws');
  const log = (line: string) => options.log(`[${name}] ${line}`);
  let stopped = false;
  let rebooting: Promise<void> | undefined;
  const app: App = {
    kind,
    connectionString,
    options,
    transport,
    log,
    reboot(delaySeconds) {
      if (rebooting || stopped) return;
      rebooting = (async () => {
        await current.stop().catch(() => undefined);
        log('rebooting');
        await sleep(delaySeconds * 1000);
        if (stopped) return;
        current = await boot(app);
        log('back after reboot');
      })()
        .catch((error: Error) => log(`reboot failed: ${error.message}`))
        .finally(() => (rebooting = undefined));
    },
  };
  let current = await boot(app);
  return {
    name,
    async stop() {
      stopped = true;
      await rebooting;
      await current.stop();
      log('closed');
    },
  };
}

/**
 * The module app from IoT Hub's module-twin how-to: connect with the module's connection
 * string, read and print the twin, report DateTimeLastAppLaunch, then copy every desired
 * change into reported and stamp DateTimeLastDesiredPropertyChangeReceived. It also answers
 * the direct methods `ping`, `reboot` (reconnects after `delaySeconds`) and `fail` (answers
 * `status`, 500 by default), and sends telemetry every desired `telemetryInterval` seconds.
 */
export function runModule(
  connectionString: string,
  options: ModuleOptions,
): Promise<RunningModule> {
  return runApp('module', connectionString, options);
}

/**
 * The same app as a device (`DeviceClient` with a device connection string): twin, methods
 * and telemetry as above, plus cloud-to-device messages, which it completes, or rejects when
 * the message's `reject` property is `true` and the transport can (AMQP, HTTPS).
 */
export function runDevice(
  connectionString: string,
  options: ModuleOptions,
): Promise<RunningModule> {
  return runApp('device', connectionString, options);
}
