import { RedisStore } from 'connect-redis';
import session, { type Store } from 'express-session';
import { createClient } from 'redis';
import type { Logger } from '../log.ts';

/**
 * Where sign-in sessions are kept: in Redis (connect-redis + node-redis) so several BFF
 * replicas share them, or in this process's memory.
 */
export async function openSessionStore(
  redisUrl: string | undefined,
  logger: Logger,
): Promise<{ store: Store; close(): Promise<void> }> {
  if (!redisUrl) return { store: new session.MemoryStore(), close: async () => undefined };
  const client = createClient({ url: redisUrl });
  // The URL may carry a password: log what failed, never where.
  client.on('error', (error: Error) =>
    logger.warn('session store (Redis) error', { message: error.message }),
  );
  await client.connect();
  return {
    store: new RedisStore({ client, prefix: 'twinscope:sess:' }),
    close: async () => {
      await client.close();
    },
  };
}
