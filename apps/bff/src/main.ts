import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfig } from './config/index.ts';
import { startBff } from './compose.ts';
import { createLogger } from './log.ts';
import { StoreError } from './adapters/store/sql.ts';
import { startTelemetry } from './telemetry/setup.ts';

/** The console the build put beside the server (`dist/console/public`); none from the sources. */
const BUILT_CONSOLE = fileURLToPath(new URL('./public/', import.meta.url));

try {
  const config = parseConfig(process.env);
  if (!config.server.staticDir && existsSync(BUILT_CONSOLE))
    config.server.staticDir = BUILT_CONSOLE;
  const logger = createLogger(config.server.logLevel);
  // Before anything it measures is made.
  const telemetry = await startTelemetry(config.telemetry, logger);
  const bff = await startBff(config, logger);
  logger.info('Twinscope BFF is listening', {
    url: bff.url,
    staticDir: config.server.staticDir ?? null,
  });
  let stopping = false;
  // Closing while the hub's connection drops can make azure-iothub's AMQP layer throw from
  // an event handler (its error naming recurses on a cyclic error): while stopping, that is
  // noted and the process exits as asked, instead of dying with a stack trace.
  process.on('uncaughtException', (error) => {
    if (!stopping) throw error;
    logger.warn('error while stopping', { error: error.message });
    process.exit(0);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      const stopAt = Date.now();
      // A replica drains within 10 s (Kubernetes waits 30 by default before SIGKILL):
      // requests under way get 8 of them, the rest closes what they wrote to.
      setTimeout(() => {
        logger.error('stopping took over 10 s; exiting anyway');
        process.exit(1);
      }, 10_000).unref();
      void bff
        .close(8_000)
        // A collector that answers takes the last figures in milliseconds; one that is down
        // gets 2 s at most of what is left of the 10.
        .then(() =>
          telemetry.shutdown(Math.max(200, Math.min(2_000, 9_500 - (Date.now() - stopAt)))),
        )
        .then(() => process.exit(0));
    });
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  if (error instanceof StoreError) {
    console.error(`Twinscope BFF: ${error.message}`);
    process.exit(1);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    console.error('Twinscope BFF: the port is already in use; set TWINSCOPE_PORT.');
    process.exit(1);
  }
  throw error;
}
