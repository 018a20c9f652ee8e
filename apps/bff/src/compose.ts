import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IotHubAdapter } from './adapters/iothub.ts';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { EventBroker, type BrokerOptions } from './live/broker.ts';
import { PollingFeed } from './live/polling-feed.ts';
import type { Logger } from './log.ts';
import { DeviceService } from './services/device-service.ts';
import { TwinService } from './services/twin-service.ts';
import { ModuleService } from './services/module-service.ts';

export interface RunningBff {
  url: string;
  port: number;
  feed: PollingFeed;
  broker: EventBroker;
  close(): Promise<void>;
}

/** Wires config to adapters, services and the app, and listens. */
export async function startBff(
  config: Config,
  logger: Logger,
  brokerOptions: BrokerOptions = {},
): Promise<RunningBff> {
  const hub = new IotHubAdapter({
    connectionString: config.hub.connectionString,
    ...(config.hub.ca ? { ca: config.hub.ca } : {}),
    ...(config.hub.deviceHost ? { deviceHost: config.hub.deviceHost } : {}),
    logger,
  });
  // The feed publishes through the broker and the broker reports the feed's state.
  const holder: { broker?: EventBroker } = {};
  const feed = new PollingFeed(hub, () => holder.broker!, logger, config.poll);
  const broker = new EventBroker(() => feed.status(), brokerOptions);
  holder.broker = broker;
  const app = createApp({
    hub,
    devices: new DeviceService(hub),
    twins: new TwinService(hub, feed),
    modules: new ModuleService(hub, feed),
    broker,
    logger,
    localRole: config.localRole,
    csrfToken: randomBytes(32).toString('base64url'),
    ...(config.staticDir ? { staticDir: config.staticDir } : {}),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });
  feed.start();
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    feed,
    broker,
    async close() {
      feed.stop();
      broker.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
