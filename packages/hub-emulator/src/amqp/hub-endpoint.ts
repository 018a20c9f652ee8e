import type { SasContext } from '../auth/sas.ts';
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';
import type { DeviceSessions } from '../devices/device-sessions.ts';
import type { Registry } from '../store/registry.ts';
import type { FileNotificationQueue } from '../uploads/file-notifications.ts';
import { startAmqpServer, type RunningAmqpServer } from './amqp-server.ts';
import { cloudToDeviceRoutes } from './cloud-to-device-routes.ts';
import { fileNotificationRoutes } from './file-notification-routes.ts';
import { HubConnections } from './hub-connections.ts';
import { methodRoutes } from './method-routes.ts';
import { D2C_MAX_BYTES } from '../devices/message-size.ts';
import { telemetryRoutes } from './telemetry-routes.ts';
import { twinRoutes } from './twin-routes.ts';
import { isRegistrationUser, provisioningRoutes, registrationLogin } from '../provisioning/amqp.ts';
import type { Provisioning } from '../provisioning/provisioning.ts';

export interface HubAmqpOptions {
  registry: Registry;
  sessions: DeviceSessions;
  c2d: CloudToDevice;
  /** File notifications for the service's receiver. */
  fileNotifications: FileNotificationQueue;
  /** The hub's name (the first label of its host name). */
  hubName: string;
  sas: SasContext;
  port: number;
  listen: string;
  tls: { cert: string; key: string };
  /** CA certificates (PEM) whose device certificates the hub accepts (`--ca-cert`). */
  trustedCas: readonly string[];
  /** Devices registering with the provisioning service share the hub's AMQP endpoint. */
  provisioning?: Provisioning;
  log?: (line: string) => void;
}

/**
 * IoT Hub's device and service AMQP surface on the shared AMQP layer, over TLS with the
 * hub's certificate: who a connection speaks for (hub-connections.ts: `$cbs` with device,
 * module and policy SAS tokens, SASL PLAIN, X.509), then one route file per feature:
 * telemetry and module output events, the twin channel, direct methods, cloud-to-device
 * messages and feedback, file notifications. Links are authorised by the identity their address names.
 */
export async function startHubAmqpEndpoint(options: HubAmqpOptions): Promise<RunningAmqpServer> {
  const { registry, sessions, provisioning } = options;
  const log = (line: string) => options.log?.(`amqp: ${line}`);
  const authority = new HubConnections(options);
  const twins = twinRoutes({ registry, authority, log });
  const methods = methodRoutes({ sessions, authority });
  const closeRoutes = () => {
    twins.close();
    methods.close();
  };
  const server = await startAmqpServer({
    name: 'iothub',
    port: options.port,
    listen: options.listen,
    tls: { ...options.tls, clientCertificates: { trustedCas: options.trustedCas } },
    putToken: (request) => authority.putToken(request),
    plain: (username, password) =>
      provisioning && isRegistrationUser(username)
        ? registrationLogin(provisioning, username, password)
        : authority.plain(username, password),
    granted: (grant, connection) => authority.granted(grant, connection),
    ended: (connection) => authority.ended(connection),
    maxMessageBytes: D2C_MAX_BYTES,
    routes: [
      ...cloudToDeviceRoutes({ c2d: options.c2d, hubName: options.hubName, authority }),
      ...fileNotificationRoutes({
        notifications: options.fileNotifications,
        hubName: options.hubName,
        authority,
      }),
      ...telemetryRoutes({ registry, authority }),
      ...twins.routes,
      ...methods.routes,
      ...(provisioning ? provisioningRoutes(provisioning) : []),
    ],
    ...(options.log ? { log: options.log } : {}),
  }).catch((error: unknown) => {
    // Not listening (the port is taken): the routes stop hearing the registry too.
    closeRoutes();
    throw error;
  });
  return {
    ...server,
    async close() {
      closeRoutes();
      await server.close();
    },
  };
}
