import type { QueryClient } from '@tanstack/react-query';
import type { LiveEvent } from '@twinscope/contract';
import type { LiveClient } from '../features/live/live-client.ts';
import {
  deviceKeys,
  historyKeys,
  meKey,
  messageKeys,
  methodKeys,
  versionKeys,
} from '../lib/query-keys.ts';
import { writeConnection, writeTwin } from '../lib/twin-cache.ts';

/** Live events go straight into the query cache through the pure apply functions. */
export function bridgeLiveToCache(client: LiveClient, queryClient: QueryClient): () => void {
  // A stream that ended for good (session over, or refused on reconnect): ask who we are.
  const unsubscribe = client.subscribeSnapshot(() => {
    if (client.getSnapshot().state === 'closed')
      void queryClient.invalidateQueries({ queryKey: meKey });
  });
  const unlisten = client.onEvent((event: LiveEvent) => {
    switch (event.type) {
      case 'twin': {
        const ref = { deviceId: event.deviceId, moduleId: event.moduleId };
        void queryClient.invalidateQueries({ queryKey: historyKeys.of(ref) });
        writeTwin(queryClient, event);
        break;
      }
      case 'version-stored':
        // The twin's history holds this version now: its versions list reads it again.
        void queryClient.invalidateQueries({
          queryKey: versionKeys.list({ deviceId: event.deviceId, moduleId: event.moduleId }),
        });
        break;
      case 'identity':
        void queryClient.invalidateQueries({ queryKey: historyKeys.all });
        void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
        void queryClient.invalidateQueries({ queryKey: deviceKeys.modules(event.deviceId) });
        break;
      case 'connection':
        writeConnection(queryClient, event);
        break;
      case 'activity': {
        // Someone did something from Twinscope (maybe in another tab): its lists are stale.
        const { action, target } = event.entry;
        if (action === 'method.invoke')
          void queryClient.invalidateQueries({ queryKey: methodKeys.recent(target) });
        else if (action === 'message.send' || action === 'message.purge')
          void queryClient.invalidateQueries({ queryKey: messageKeys.recent(target.deviceId) });
        else if (action.startsWith('twin.'))
          void queryClient.invalidateQueries({ queryKey: historyKeys.of(target) });
        break;
      }
      case 'message-feedback':
        void queryClient.invalidateQueries({ queryKey: messageKeys.recent(event.deviceId) });
        break;
      case 'hello':
        if (event.resync) void queryClient.invalidateQueries({ queryKey: deviceKeys.all });
        break;
      default:
        break;
    }
  });
  return () => {
    unsubscribe();
    unlisten();
  };
}
