import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { LiveClient } from '../features/live/live-client.ts';
import { LiveContext } from '../features/live/use-live.ts';
import { bridgeLiveToCache } from './live-bridge.ts';

/** One live stream per tab, opened once the operator is signed in. */
export function LiveStream({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [live] = useState(() => new LiveClient());
  useEffect(() => {
    const unbridge = bridgeLiveToCache(live, queryClient);
    live.connect();
    return () => {
      unbridge();
      live.close();
    };
  }, [live, queryClient]);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}
