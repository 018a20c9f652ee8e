// `<dataDir>/connection.json`, described once: the emulator writes it, and the BFF, the
// module simulator, the benches and the tests read it. This module imports zod alone, so
// a reader (`@twinscope/hub-emulator/connection-file`) does not load the emulator.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Port = z.number().int().min(1).max(65535);

export const ConnectionFileSchema = z.object({
  /** The hub's host name, as in its connection strings and certificate. */
  hostName: z.string().min(1),
  /** The service API (and MQTT and AMQP over WebSockets). */
  httpsPort: Port,
  /** MQTT over TLS, for devices and modules. */
  mqttPort: Port,
  /** AMQP over TLS, for devices, modules and the service. */
  amqpsPort: Port,
  /** iothubowner's connection string; HostName carries the HTTPS port unless it is 443. */
  serviceConnectionString: z.string().min(1),
  /** The CA that signed the emulator's certificate (PEM), for clients to trust. */
  caCertFile: z.string().min(1),
  /** The tier the hub throttles like (`S1`, `S2 ×4`), `custom` limits, or null: no quota. */
  throttle: z.string().nullable(),
  /** The built-in endpoint (Event Hubs-compatible). */
  eventHubs: z.object({
    /** What @azure/event-hubs takes (plain AMQP, `UseDevelopmentEmulator=true`). */
    connectionString: z.string().min(1),
    name: z.string().min(1),
    amqpPort: Port,
    partitionCount: z.number().int().min(1),
    consumerGroups: z.array(z.string()),
  }),
  /**
   * Where devices' uploads go: the storage account (Azurite's, when the emulator runs it)
   * and the hub's file upload container. Null: the hub has no storage; uploads are refused.
   */
  storage: z
    .object({
      connectionString: z.string().min(1),
      container: z.string().min(1),
    })
    .nullable()
    .default(null),
  /**
   * The Device Provisioning Service beside the hub: the id scope devices register in, the
   * service connection string (provisioningserviceowner), and the host a device SDK is given
   * (it dials its default ports: HTTPS 443, MQTT 8883, AMQP 5671).
   */
  provisioning: z
    .object({
      idScope: z.string().min(1),
      serviceConnectionString: z.string().min(1),
      deviceEndpoint: z.string().min(1),
    })
    .nullable()
    .default(null),
});

export type ConnectionFile = z.infer<typeof ConnectionFileSchema>;

/**
 * Reads and checks an emulator's connection.json. Throws an Error naming the file and what
 * is wrong with it: missing, not JSON, or which fields do not fit.
 */
export function readConnectionFile(path: string): ConnectionFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${path} does not exist (the emulator writes connection.json into its data dir)`
        : `${path} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = ConnectionFileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(the whole file)'}: ${issue.message}`,
    );
    throw new Error(`${path} is not the emulator's connection.json: ${problems.join('; ')}`);
  }
  return parsed.data;
}
