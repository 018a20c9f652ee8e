import { ConfigError, parseConfig } from './config.ts';
import { startBff } from './compose.ts';
import { createLogger } from './log.ts';

try {
  const config = parseConfig(process.env);
  const logger = createLogger(config.server.logLevel);
  const bff = await startBff(config, logger);
  logger.info('Twinscope BFF is listening', {
    url: bff.url,
    staticDir: config.server.staticDir ?? null,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void bff.close().then(() => process.exit(0)));
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    console.error('Twinscope BFF: the port is already in use; set TWINSCOPE_PORT.');
    process.exit(1);
  }
  throw error;
}
