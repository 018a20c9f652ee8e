// The hub's two TLS servers: MQTT for devices and modules, and HTTPS for the service API with
// MQTT and AMQP over WebSockets on the same port. They are started and closed together
// because close() must end the sockets of both, handshakes included.
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { WebSocket } from 'ws';
import {
  clientCertificateOf,
  clientCertificateRequest,
  type ClientCertificate,
} from '../auth/x509.ts';
import type { TlsMaterial } from '../certs.ts';
import { createServiceApi } from '../http/server.ts';
import { webSocketUpgrade } from '../http/websockets.ts';
import { DeviceGateway } from '../mqtt/gateway.ts';
import { provisioningApi } from '../provisioning/http.ts';
import { serviceOperations } from '../operations/index.ts';
import { listenAddress, portRefused, portsOf, type EmulatorOptions } from './options.ts';
import type { Services } from './services.ts';

type AcceptAmqpWebSocket = (socket: WebSocket, certificate?: ClientCertificate) => void;

export interface TlsListeners {
  mqttPort: number;
  httpsPort: number;
  /** Hands AMQP over WebSockets to the hub's AMQP endpoint, which starts after HTTPS. */
  acceptAmqpWebSockets(accept: AcceptAmqpWebSocket): void;
  close(): Promise<void>;
}

/** Listens on the first of the ports that binds; the last one's failure is thrown. */
async function listen(server: NetServer, ports: readonly number[], host: string): Promise<number> {
  for (const [i, port] of ports.entries()) {
    try {
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolveListen();
        });
      });
      return (server.address() as AddressInfo).port;
    } catch (error) {
      if (i === ports.length - 1 || !portRefused(error)) throw error;
    }
  }
  throw new Error('no port to listen on');
}

/** Starts MQTT, then HTTPS, each adding its `host:port` to the names tokens may carry. */
export async function startTlsListeners(
  options: EmulatorOptions,
  hostName: string,
  tls: TlsMaterial,
  trustedCas: string[],
  services: Services,
): Promise<TlsListeners> {
  const { registry, sessions, c2d, sas, hostNames } = services;
  const gateway = new DeviceGateway({
    registry,
    sessions,
    c2d,
    sas,
    provisioning: services.provisioning,
    ...(options.log ? { log: options.log } : {}),
  });
  // Every device-facing TLS listener asks for a client certificate (X.509 devices) without
  // requiring one (SAS clients send none).
  const clientCertificates = clientCertificateRequest(trustedCas);
  const mqttServer = createTlsServer(
    // No Nagle delay, as for AMQP: MQTT's PUBACKs and deliveries go out at once.
    { cert: tls.cert, key: tls.key, noDelay: true, ...clientCertificates },
    (socket) => gateway.accept(socket, clientCertificateOf(socket)),
  );
  mqttServer.on('tlsClientError', () => undefined);
  /** Every accepted TCP socket of both TLS servers, so close() can end them all. */
  const rawSockets = new Set<Socket>();
  mqttServer.on('connection', (socket: Socket) => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });
  const mqttPort = await listen(
    mqttServer,
    portsOf(options.mqttPort, 8883),
    listenAddress(options),
  );
  hostNames.add(`${hostName}:${mqttPort}`);

  const api = createServiceApi({
    operations: serviceOperations,
    registry,
    devices: sessions,
    cloudToDevice: c2d,
    jobs: services.jobs,
    configurations: services.configurations,
    fileUploads: services.fileUploads,
    importExport: services.importExport,
    sas,
    ...(services.throttle ? { throttle: services.throttle } : {}),
    served: services.served,
    provisioning: provisioningApi(services.provisioning, hostNames, options.log, options.entra),
    ...(options.entra ? { entra: options.entra } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const server: Server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      keepAliveTimeout: 60_000,
      noDelay: true,
      ...clientCertificates,
    },
    (req, res) => {
      void api(req, res);
    },
  );
  server.on('clientError', (_error, socket) => socket.destroy());
  // MQTT and AMQP over WebSockets share the HTTPS port, as on IoT Hub (the SDKs dial 443).
  let acceptAmqpWebSocket: AcceptAmqpWebSocket = (socket) => socket.terminate();
  server.on(
    'upgrade',
    webSocketUpgrade({
      mqtt: (stream, certificate) => gateway.accept(stream, certificate),
      amqp: (socket, certificate) => acceptAmqpWebSocket(socket, certificate),
      ...(options.log ? { log: options.log } : {}),
    }),
  );
  // As for MQTT: a socket still in its TLS handshake is no HTTP connection yet, so
  // closeAllConnections() misses it and close() would wait for it forever.
  server.on('connection', (socket: Socket) => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });
  const httpsPort = await listen(
    server,
    portsOf(options.httpsPort, 8443),
    listenAddress(options),
  ).catch(async (error: unknown) => {
    // HTTPS cannot start: MQTT, already listening, stops too.
    gateway.close();
    await new Promise<void>((done) => mqttServer.close(() => done()));
    throw error;
  });
  // Tokens may name the host with its port, as the SDKs do when HostName carries one.
  hostNames.add(`${hostName}:${httpsPort}`);

  return {
    mqttPort,
    httpsPort,
    acceptAmqpWebSockets(accept) {
      acceptAmqpWebSocket = accept;
    },
    async close() {
      gateway.close();
      const closed = new Promise<void>((done) => mqttServer.close(() => done()));
      // Sockets still in their TLS handshake never reach the gateway; end them too.
      for (const socket of rawSockets) socket.destroy();
      await closed;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
        for (const socket of rawSockets) socket.destroy();
      });
    },
  };
}
