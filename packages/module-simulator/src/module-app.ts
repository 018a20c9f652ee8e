import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';

const { ModuleClient } = deviceSdk;
const { Mqtt } = mqttTransport;

export type Log = (line: string) => void;

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
  options: { ca?: string; log: Log },
): Promise<RunningModule> {
  const name = nameOf(connectionString);
  const log = (line: string) => options.log(`[${name}] ${line}`);
  const client = ModuleClient.fromConnectionString(connectionString, Mqtt);
  if (options.ca) await client.setOptions({ ca: options.ca });
  client.on('error', (error: Error) => log(`client error: ${error.message}`));
  log('connecting');
  await client.open();
  log('connected; reading the module twin');
  const twin = await client.getTwin();
  log(
    `twin: ${JSON.stringify({ desired: twin.properties.desired, reported: twin.properties.reported })}`,
  );

  await report(twin, { DateTimeLastAppLaunch: new Date().toISOString() });
  log('reported DateTimeLastAppLaunch');

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

  return {
    name,
    async stop() {
      await client.close();
      log('closed');
    },
  };
}
