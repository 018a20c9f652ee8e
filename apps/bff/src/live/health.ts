import type { FeedStatus } from '@twinscope/contract';

/**
 * Where live changes come from, as a pure state machine: the Event Hubs-compatible endpoint
 * while every partition answers and twin change events arrive, polling otherwise (and
 * always, when no endpoint is configured). The live hub feeds it what happens and does what
 * the resulting state says; nothing here reads a clock or has an effect.
 */
export interface HealthSettings {
  /** A partition silent this long (no batch, not even an empty one) means the endpoint is down. */
  staleAfterMs: number;
  /** A write through this BFF whose twin change event has not come back after this long … */
  echoTimeoutMs: number;
}

export type HealthEvent =
  | { type: 'partitions'; count: number }
  /** A partition's receiver delivered a batch (empty ones too: its sign of life). */
  | { type: 'batch'; partition: number; at: number }
  | { type: 'source-error'; at: number; message: string }
  /** This BFF wrote a twin: its change event should come back through the endpoint. */
  | { type: 'own-write'; key: string; version: number; at: number }
  /** A twin change event arrived from the endpoint. */
  | { type: 'twin-change'; key: string; version: number | undefined }
  | { type: 'tick'; at: number }
  | { type: 'poll-ok' }
  | { type: 'poll-failed'; message: string };

export interface HealthState {
  /** Whether an event endpoint is configured at all. */
  readonly endpoint: boolean;
  readonly phase: 'connecting' | 'live' | 'down';
  /** Why the endpoint is not live. */
  readonly reason?: string;
  readonly startedAt: number;
  readonly partitions?: number;
  /** When each partition last delivered a batch. */
  readonly alive: Readonly<Record<number, number>>;
  readonly lastErrorAt: number;
  /** Twin change events do not reach the endpoint (no route): stay on polling until one does. */
  readonly routeMissing: boolean;
  readonly awaitingEcho: Readonly<Record<string, { version: number; deadline: number }>>;
  readonly polling: { readonly healthy: boolean; readonly message?: string };
}

const CONNECTING = 'connecting…';
/** Own writes awaited at once; more tell nothing new. */
const MAX_AWAITED = 100;

export const NOT_ANSWERING =
  'it has not answered: check its address, credentials and consumer group';
export const NO_ROUTE =
  'twin change events do not arrive: route the TwinChangeEvents source to this endpoint';
export const STALE = 'no answer from the event endpoint';

export function initialHealth(endpoint: boolean, at: number): HealthState {
  return {
    endpoint,
    phase: 'connecting',
    reason: CONNECTING,
    startedAt: at,
    alive: {},
    lastErrorAt: 0,
    routeMissing: false,
    awaitingEcho: {},
    polling: { healthy: true },
  };
}

function everyPartitionAlive(state: HealthState): boolean {
  if (state.partitions === undefined) return false;
  for (let p = 0; p < state.partitions; p++)
    if ((state.alive[p] ?? 0) <= state.lastErrorAt) return false;
  return true;
}

const down = (state: HealthState, reason: string): HealthState =>
  state.phase === 'down' && state.reason === reason ? state : { ...state, phase: 'down', reason };

function live(state: HealthState): HealthState {
  if (state.phase === 'live') return state;
  const { reason: _, ...rest } = state;
  return { ...rest, phase: 'live' };
}

export function reduceHealth(
  state: HealthState,
  event: HealthEvent,
  settings: HealthSettings,
): HealthState {
  switch (event.type) {
    case 'partitions':
      return { ...state, partitions: event.count };
    case 'batch': {
      const next = { ...state, alive: { ...state.alive, [event.partition]: event.at } };
      // Live only once every partition reads again: one receiver is not enough.
      return next.phase !== 'live' && !next.routeMissing && everyPartitionAlive(next)
        ? live(next)
        : next;
    }
    case 'source-error':
      return down({ ...state, lastErrorAt: event.at }, event.message);
    case 'own-write': {
      if (state.phase !== 'live' || event.key in state.awaitingEcho) return state;
      if (Object.keys(state.awaitingEcho).length >= MAX_AWAITED) return state;
      return {
        ...state,
        awaitingEcho: {
          ...state.awaitingEcho,
          [event.key]: { version: event.version, deadline: event.at + settings.echoTimeoutMs },
        },
      };
    }
    case 'twin-change': {
      let next = state;
      const echo = state.awaitingEcho[event.key];
      if (echo && (event.version ?? Infinity) >= echo.version) {
        const { [event.key]: _, ...rest } = state.awaitingEcho;
        next = { ...next, awaitingEcho: rest };
      }
      if (next.routeMissing) {
        next = { ...next, routeMissing: false };
        if (everyPartitionAlive(next)) next = live(next);
      }
      return next;
    }
    case 'tick': {
      const now = event.at;
      if (!state.endpoint) return state;
      if (Object.values(state.awaitingEcho).some((echo) => echo.deadline <= now))
        return down({ ...state, awaitingEcho: {}, routeMissing: true }, NO_ROUTE);
      if (
        state.phase === 'live' &&
        Object.values(state.alive).some((at) => now - at > settings.staleAfterMs)
      )
        return down(state, STALE);
      if (
        state.phase === 'connecting' &&
        Object.keys(state.alive).length === 0 &&
        now - state.startedAt > settings.staleAfterMs * 2
      )
        return down(state, NOT_ANSWERING);
      return state;
    }
    case 'poll-ok':
      return state.polling.healthy ? state : { ...state, polling: { healthy: true } };
    case 'poll-failed':
      return state.polling.message === event.message && !state.polling.healthy
        ? state
        : { ...state, polling: { healthy: false, message: event.message } };
  }
}

/** What tabs are told about where their live changes come from. */
export function feedStatus(state: HealthState): FeedStatus {
  if (state.endpoint && state.phase === 'live') return { source: 'event-hubs', healthy: true };
  const polling = state.polling;
  if (!state.endpoint)
    return {
      source: 'polling',
      healthy: polling.healthy,
      ...(polling.message ? { message: polling.message } : {}),
    };
  return {
    source: 'polling',
    healthy: polling.healthy,
    message: `Event Hubs endpoint unavailable (${state.reason ?? CONNECTING}); polling instead`,
  };
}

/** Whether the poller should run: always without an endpoint, and while it is not live. */
export const pollingWanted = (state: HealthState): boolean =>
  !state.endpoint || state.phase !== 'live';

/** Whether the endpoint has just turned live or stopped being live (for the log). */
export function endpointTurned(before: HealthState, after: HealthState): 'live' | 'down' | null {
  if (!after.endpoint || before.phase === after.phase) return null;
  if (after.phase === 'live') return 'live';
  return before.phase === 'live' ? 'down' : null;
}
