import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import mqttTransport from 'azure-iot-device-mqtt';
import { portAgentFor } from '@twinscope/hub-connection';

const { ModuleClient } = deviceSdk;

export type Log = (line: string) => void;

/** The SDK transports a module app can use; AMQP is the how-to's (ModuleClient's default). */
export const TRANSPORTS = ['amqp', 'mqtt', 'amqpws', 'mqttws'] as const;
export type Transport = (typeof TRANSPORTS)[number];

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
}

const TRANSPORT_CTOR = {
  amqp: amqpTransport.Amqp,
  mqtt: mqttTransport.Mqtt,
  amqpws: amqpTransport.AmqpWs,
  mqttws: mqttTransport.MqttWs,
} as const;

/**
 * The connection string and SDK options for a transport: HostName carries the transport's
 * port when it is not the SDK's default; the WebSocket transports always dial 443, so they
 * get an agent that dials the hub's HTTPS port instead.
 */
function connectionFor(
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
  /** `device/module`, for log lines. */
  name: string;
  stop(): Promise<void>;
}

type Twin = Awaited<ReturnType<InstanceType<typeof ModuleClient>['getTwin']>>;

function report(twin: Twin, patch: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) =>
    twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve())),
  );
}

function nameOf(connectionString: string): string {
  const device = /DeviceId=([^;]+)/.exec(connectionString)?.[1] ?? '?';
  const module = /ModuleId=([^;]+)/.exec(connectionString)?.[1] ?? '?';
  return `${device}/${module}`;
}

/**
 * The module app from IoT Hub's module-twin how-to: connect with the module's connection
 * string, read and print the twin, report DateTimeLastAppLaunch, then copy every desired
 * change into reported and stamp DateTimeLastDesiredPropertyChangeReceived.
 */
export async function runModule(
  connectionString: string,
  options: ModuleOptions,
): Promise<RunningModule> {
  const name = nameOf(connectionString);
  const transport = options.transport ?? 'amqp';
  const log = (line: string) => options.log(`[${name}] ${line}`);
  const connection = connectionFor(connectionString, transport, options.ports, options.ca);
  const client = ModuleClient.fromConnectionString(
    connection.connectionString,
    TRANSPORT_CTOR[transport],
  );
  await client.setOptions(connection.options);
  client.on('error', (error: Error) => log(`client error: ${error.message}`));
  log(`connecting over ${transport}`);
  await client.open();
  log('connected; reading the module twin');
  const twin = await client.getTwin();
  log(
    `twin: ${JSON.stringify({ desired: twin.properties.desired, reported: twin.properties.reported })}`,
  );

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

  return {
    name,
    async stop() {
      await client.close();
      log('closed');
    },
  };
}
