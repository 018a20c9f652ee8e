// Plug and Play devices of our own making, for the demo fleet and the tests: a thermostat
// (`dtmi:twinscope:demo:Thermostat;1`), and a temperature controller with two thermostat
// components and its device information (`dtmi:twinscope:demo:TemperatureController;1`).
// Their models are in this package's `models/` folder, laid out as a model repository is.
// They follow the Plug and Play conventions as Microsoft's device SDK samples do: the model
// id announced as the client connects; a component's reported properties and desired patches
// under its name with the marker `"__t": "c"`; a writable property acknowledged in the
// reported properties with `value`, `ac` (a status code), `av` (the desired version) and
// `ad` (a description); a component's commands named `component*command`; its telemetry
// with the message property `$.sub`.
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { registryFor, serviceCredentials } from '@twinscope/hub-connection';
import { connectionFor, type HubPorts, type RunningModule } from './module-app.ts';

const { Client: DeviceClient, Message } = deviceSdk;

export const THERMOSTAT_MODEL = 'dtmi:twinscope:demo:Thermostat;1';
export const CONTROLLER_MODEL = 'dtmi:twinscope:demo:TemperatureController;1';

export type PnpKind = 'thermostat' | 'controller';

export interface PnpOptions {
  kind: PnpKind;
  ca?: string;
  ports?: HubPorts;
  log: (line: string) => void;
  /** Telemetry every this many seconds (default 5). */
  telemetryIntervalSeconds?: number;
}

type Client = InstanceType<typeof DeviceClient>;
type Twin = Awaited<ReturnType<Client['getTwin']>>;

const round = (value: number) => Math.round(value * 100) / 100;

/** One thermostat: a temperature drifting towards its target, and what it saw since boot. */
class Thermostat {
  temperature = 21 + Math.random();
  target: number | undefined;
  readonly readings: { at: number; value: number }[] = [];
  max = this.temperature;

  tick(): number {
    const towards = this.target ?? 21;
    this.temperature += (towards - this.temperature) * 0.2 + (Math.random() - 0.5) * 0.3;
    this.temperature = round(this.temperature);
    this.max = Math.max(this.max, this.temperature);
    this.readings.push({ at: Date.now(), value: this.temperature });
    if (this.readings.length > 10_000) this.readings.shift();
    return this.temperature;
  }

  /** `getMaxMinReport`: the extremes and average since a time (all it saw when none). */
  report(since: unknown) {
    const from =
      typeof since === 'string' && !Number.isNaN(Date.parse(since)) ? Date.parse(since) : 0;
    const values = this.readings.filter((r) => r.at >= from);
    if (values.length === 0) return undefined;
    const numbers = values.map((r) => r.value);
    return {
      maxTemp: Math.max(...numbers),
      minTemp: Math.min(...numbers),
      avgTemp: round(numbers.reduce((a, b) => a + b, 0) / numbers.length),
      startTime: new Date(values[0]!.at).toISOString(),
      endTime: new Date(values.at(-1)!.at).toISOString(),
    };
  }
}

function update(twin: Twin, patch: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) =>
    twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve())),
  );
}

/**
 * A writable property's acknowledgement: 200 with the value it now holds, or 400 with why
 * not, for the desired version it answers.
 */
function acknowledgement(value: unknown, version: number) {
  return typeof value === 'number' && Number.isFinite(value) && value >= -40 && value <= 80
    ? { value, ac: 200, av: version, ad: 'Target temperature set' }
    : { value, ac: 400, av: version, ad: 'A target temperature is a number from -40 to 80 °C' };
}

/** Runs a Plug and Play device with its connection string until stopped. */
export async function runPnpDevice(
  connectionString: string,
  options: PnpOptions,
): Promise<RunningModule> {
  const { kind, log } = options;
  const modelId = kind === 'thermostat' ? THERMOSTAT_MODEL : CONTROLLER_MODEL;
  const connection = connectionFor(connectionString, 'mqtt', options.ports, options.ca);
  const client: Client = DeviceClient.fromConnectionString(
    connection.connectionString,
    mqttTransport.Mqtt,
  );
  // The model id is announced as the client connects (the MQTT user name's model-id).
  await client.setOptions({ ...connection.options, modelId } as never);
  client.on('error', (error: Error) => log(`client error: ${error.message}`));
  await client.open();
  const name = /DeviceId=([^;]+)/.exec(connectionString)?.[1] ?? '?';
  // The thermostats: the device itself, or the controller's two components.
  const thermostats = new Map<string | undefined, Thermostat>(
    kind === 'thermostat'
      ? [[undefined, new Thermostat()]]
      : [
          ['thermostat1', new Thermostat()],
          ['thermostat2', new Thermostat()],
        ],
  );
  const twin = await client.getTwin();
  const startup: Record<string, unknown> = {};
  for (const [component, thermostat] of thermostats) {
    const own = { maxTempSinceLastReboot: thermostat.max };
    if (component === undefined) Object.assign(startup, own);
    else startup[component] = { __t: 'c', ...own };
  }
  if (kind === 'controller') {
    startup['serialNumber'] = `TS-${name
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .slice(-8)}`;
    startup['deviceInformation'] = {
      __t: 'c',
      manufacturer: 'Twinscope demo',
      model: 'TC-2',
      swVersion: '1.4.0',
      totalMemory: 524_288,
    };
  }
  await update(twin, startup);

  // Desired changes: acknowledged as the convention says, root or component.
  const acknowledge = async (desired: Record<string, unknown>) => {
    const version = Number(desired['$version']);
    const patch: Record<string, unknown> = {};
    for (const [component, thermostat] of thermostats) {
      const section = component === undefined ? desired : desired[component];
      if (typeof section !== 'object' || section === null) continue;
      const value = (section as Record<string, unknown>)['targetTemperature'];
      if (value === undefined) continue;
      const ack = acknowledgement(value, version);
      if (ack.ac === 200) thermostat.target = value as number;
      if (component === undefined) patch['targetTemperature'] = ack;
      else patch[component] = { __t: 'c', targetTemperature: ack };
    }
    if (Object.keys(patch).length > 0) {
      await update(twin, patch);
      log(`acknowledged ${JSON.stringify(patch)}`);
    }
  };
  // What was asked before it connected, then each change as it comes.
  await acknowledge(twin.properties.desired as Record<string, unknown>).catch((error: Error) =>
    log(`acknowledgement not sent: ${error.message}`),
  );
  twin.on('properties.desired', (delta: Record<string, unknown>) => {
    acknowledge(delta).catch((error: Error) => log(`acknowledgement not sent: ${error.message}`));
  });

  // Commands: `getMaxMinReport` per thermostat (`component*getMaxMinReport`), `reboot`.
  for (const [component, thermostat] of thermostats) {
    const method = component === undefined ? 'getMaxMinReport' : `${component}*getMaxMinReport`;
    client.onDeviceMethod(method, (request, response) => {
      const report = thermostat.report(request.payload);
      const answer = report ?? { message: 'No reading since then.' };
      response.send(report ? 200 : 404, answer, (error?: Error) => {
        if (error) log(`${method} answer not sent: ${error.message}`);
      });
    });
  }
  if (kind === 'controller')
    client.onDeviceMethod('reboot', (request, response) => {
      const delay = Number(request.payload);
      const valid = Number.isInteger(delay) && delay >= 0 && delay <= 60;
      response.send(
        valid ? 200 : 400,
        valid
          ? { message: `Rebooting in ${delay} s` }
          : { message: 'delay is a number of seconds from 0 to 60' },
        (error?: Error) => error && log(`reboot answer not sent: ${error.message}`),
      );
      if (valid)
        for (const thermostat of thermostats.values()) {
          thermostat.readings.length = 0;
          thermostat.max = thermostat.temperature;
        }
    });

  const send = () => {
    for (const [component, thermostat] of thermostats) {
      const message = new Message(JSON.stringify({ temperature: thermostat.tick() }));
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      if (component !== undefined) message.properties.add('$.sub', component);
      client
        .sendEvent(message)
        .catch((error: Error) => log(`telemetry not sent: ${error.message}`));
    }
    if (kind === 'controller') {
      const message = new Message(
        JSON.stringify({ workingSet: round(60_000 + Math.random() * 4_000) }),
      );
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      client
        .sendEvent(message)
        .catch((error: Error) => log(`telemetry not sent: ${error.message}`));
    }
  };
  send();
  const timer = setInterval(send, (options.telemetryIntervalSeconds ?? 5) * 1000);
  log(`${name}: Plug and Play ${kind} running as ${modelId}`);
  return {
    name,
    async stop() {
      clearInterval(timer);
      await client.close().catch(() => undefined);
    },
  };
}

/** The demo fleet's Plug and Play devices, by kind. */
export const DEMO_PNP_DEVICES = [
  { deviceId: 'oslo-lab-thermostat-15', kind: 'thermostat', role: 'thermostat' },
  { deviceId: 'oslo-lab-controller-16', kind: 'controller', role: 'temperature-controller' },
] as const satisfies readonly { deviceId: string; kind: PnpKind; role: string }[];

/**
 * The demo's Plug and Play devices, created with their tags on first start (a later start
 * keeps what operators changed), and the connection string each runs with.
 */
export async function ensureDemoPnpDevices(
  serviceConnectionString: string,
  ca: string | undefined,
): Promise<{ deviceId: string; kind: PnpKind; connectionString: string }[]> {
  const registry = registryFor(serviceConnectionString, ca ? { ca } : {});
  const host = serviceCredentials(serviceConnectionString).hostName;
  const devices = [];
  for (const { deviceId, kind, role } of DEMO_PNP_DEVICES) {
    let device;
    try {
      device = (await registry.get(deviceId)).responseBody;
    } catch (error) {
      if ((error as { responseBody?: string }).responseBody?.includes('DeviceNotFound') !== true)
        throw error;
      device = (await registry.create({ deviceId })).responseBody;
      await registry.updateTwin(
        deviceId,
        { tags: { site: 'oslo', building: 'lab', role, owner: { team: 'eu-ops' } } },
        '*',
      );
    }
    const key = device.authentication?.symmetricKey?.primaryKey;
    if (!key) throw new Error(`${deviceId} has no symmetric key`);
    devices.push({
      deviceId,
      kind,
      connectionString: `HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`,
    });
  }
  return devices;
}
