// Telemetry as the C SDK sends it over AMQP: SASL MSSBCBS, a put-token on $cbs, then every
// message inside a batch (message format 0x80013700, each data section one encoded message;
// azure-iot-sdk-c telemetry_messenger.c). There is no C toolchain here, so rhea speaks for it,
// frame for frame as in conformance/amqp-sdk-wire.test.ts.
import rhea, { type ConnectionOptions, type EventContext, type Sender } from 'rhea';
import { createSasToken } from '../src/auth/sas.ts';

const BATCH_FORMAT = 0x80013700;
const IN_FLIGHT = 64;

export interface CBatchHub {
  hostName: string;
  amqpsPort: number;
  ca: string;
  createDevice(deviceId: string): Promise<string>;
}

/** rhea reads `sasl_mechanisms` from the connect options; its typings leave it out. */
type WithSasl = ConnectionOptions & { sasl_mechanisms: Record<string, () => unknown> };

async function cDevice(hub: CBatchHub, deviceId: string): Promise<Sender> {
  const key = await hub.createDevice(deviceId);
  const options: WithSasl = {
    host: 'localhost',
    port: hub.amqpsPort,
    transport: 'tls',
    ca: hub.ca,
    reconnect: false,
    // sasl_mssbcbs.c: the mechanism named, no initial response.
    sasl_mechanisms: { MSSBCBS: () => ({ start: (done: () => void) => done() }) },
  };
  const connection = rhea.create_container().connect(options);
  const cbsSender = connection.open_sender({ name: '$cbs-sender', target: { address: '$cbs' } });
  const cbsReceiver = connection.open_receiver({
    name: '$cbs-receiver',
    source: { address: '$cbs' },
  });
  const audience = `${hub.hostName}/devices/${deviceId}`;
  const status = await new Promise<unknown>((resolve, reject) => {
    connection.once('connection_error', (c: EventContext) => reject(c.connection.error));
    cbsReceiver.once('message', (c: EventContext) =>
      resolve((c.message?.application_properties ?? {})['status-code']),
    );
    cbsSender.once('sendable', () =>
      cbsSender.send({
        message_id: rhea.types.wrap_ulong(1),
        application_properties: {
          operation: 'put-token',
          type: 'servicebus.windows.net:sastoken',
          name: audience,
        },
        body: createSasToken(audience, key, Math.floor(Date.now() / 1000) + 3600),
      }),
    );
  });
  if (status !== 200) throw new Error(`put-token answered ${String(status)}`);
  const sender = connection.open_sender({
    name: `link-snd-${deviceId}`,
    target: { address: `amqps://${hub.hostName}/devices/${deviceId}/messages/events` },
  });
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
  return sender;
}

/** Messages per second one C-style device sends in batches of `batchSize`, 64 batches in flight. */
export async function benchCBatches(
  hub: CBatchHub,
  options: { seconds: number; batchSize: number },
): Promise<number> {
  const sender = await cDevice(hub, `bench-c-batches-${Date.now()}`);
  const payload = JSON.stringify({ temperature: 21.5, humidity: 40, ts: new Date().toISOString() });
  const batch = rhea.message.encode({
    body: rhea.message.data_sections(
      Array.from({ length: options.batchSize }, (_, i) =>
        rhea.message.encode({
          message_id: `c-${i}`,
          content_type: 'application/json',
          body: rhea.message.data_section(Buffer.from(payload)),
        }),
      ),
    ),
  });
  let accepted = 0;
  let inFlight = 0;
  const until = Date.now() + options.seconds * 1000;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (Date.now() < until && inFlight < IN_FLIGHT && sender.sendable()) {
        sender.send(batch, undefined, BATCH_FORMAT);
        inFlight++;
      }
      if (Date.now() >= until && inFlight === 0) resolve();
    };
    sender.on('accepted', () => {
      accepted += options.batchSize;
      inFlight--;
      pump();
    });
    sender.on('rejected', (c: EventContext) =>
      reject(new Error(`a batch was refused: ${JSON.stringify(c.delivery?.remote_state)}`)),
    );
    sender.on('sendable', pump);
    pump();
  });
  const rate = accepted / ((performance.now() - t0) / 1000);
  sender.connection.close();
  return rate;
}
