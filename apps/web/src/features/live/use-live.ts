import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import {
  twinKey,
  type DeviceFilterRequest,
  type LiveEvent,
  type TelemetryTarget,
  type TelemetryWatchResponse,
  type TwinRef,
} from '@twinscope/contract';
import type { LiveClient, LiveSnapshot } from './live-client.ts';

export const LiveContext = createContext<LiveClient | undefined>(undefined);

function useLiveClient(): LiveClient {
  const client = useContext(LiveContext);
  if (!client) throw new Error('LiveContext is missing');
  return client;
}

export function useLiveStatus(): LiveSnapshot {
  const client = useLiveClient();
  return useSyncExternalStore(client.subscribeSnapshot, client.getSnapshot);
}

/**
 * The same list for as long as it names the same twins, not the same array instance
 * (ids hold neither '|' nor '/').
 */
function useStableRefs(refs: TwinRef[]): TwinRef[] {
  const signature = refs.map(twinKey).join('|');
  return useMemo(
    () =>
      signature === ''
        ? []
        : signature.split('|').map((key): TwinRef => {
            const [deviceId, moduleId] = key.split('/') as [string, string | undefined];
            return moduleId === undefined ? { deviceId } : { deviceId, moduleId };
          }),
    [signature],
  );
}

/** Keeps these twins watched by the BFF while the component is on screen. */
export function useWatchTwins(refs: TwinRef[]): void {
  const client = useLiveClient();
  const stable = useStableRefs(refs);
  useEffect(() => client.watch(stable), [client, stable]);
}

/** Listens to every live event while the component is on screen. */
export function useLiveEvents(listener: (event: LiveEvent) => void): void {
  const client = useLiveClient();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => client.onEvent((event) => latest.current(event)), [client]);
}

/**
 * Keeps these devices' or modules' telemetry coming while the component is on screen (a
 * device with `modules: true`: its modules' too).
 */
export function useWatchTelemetry(targets: TelemetryTarget[], enabled: boolean): void {
  const client = useLiveClient();
  const signature = enabled ? JSON.stringify(targets) : '[]';
  useEffect(() => {
    const stable = JSON.parse(signature) as TelemetryTarget[];
    return stable.length > 0 ? client.watchTelemetry(stable) : undefined;
  }, [client, signature]);
}

/**
 * Keeps the telemetry of every device a list filter matches coming while enabled; the
 * answer says how many devices the BFF follows (or why it could not).
 */
export function useWatchTelemetryFilter(
  filter: DeviceFilterRequest,
  enabled: boolean,
): TelemetryWatchResponse | Error | undefined {
  const client = useLiveClient();
  const [answer, setAnswer] = useState<TelemetryWatchResponse | Error>();
  const signature = enabled ? JSON.stringify(filter) : '';
  useEffect(() => {
    if (signature === '') return undefined;
    return client.watchTelemetryFilter(JSON.parse(signature) as DeviceFilterRequest, setAnswer);
  }, [client, signature]);
  return enabled ? answer : undefined;
}

/**
 * Keeps a fleet-wide feed coming live while the component is on screen: every audit record
 * (`audit`), word that twin changes were stored (`fleet`), or that rollouts changed (`rollouts`). `watching` runs each time the
 * BFF confirms it (refetch there what was written before it listened).
 */
export function useWatchFleet(
  feed: 'audit' | 'fleet' | 'rollouts',
  enabled: boolean,
  watching: () => void,
): void {
  const client = useLiveClient();
  const latest = useRef(watching);
  useEffect(() => {
    latest.current = watching;
  });
  useEffect(
    () => (enabled ? client.watchFleet(feed, () => latest.current()) : undefined),
    [client, feed, enabled],
  );
}
