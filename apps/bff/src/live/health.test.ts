import { describe, expect, it } from 'vitest';
import {
  feedStatus,
  initialHealth,
  NO_ROUTE,
  NOT_ANSWERING,
  pollingWanted,
  reduceHealth,
  STALE,
  type HealthEvent,
  type HealthState,
} from './health.ts';

const settings = { staleAfterMs: 5000, echoTimeoutMs: 15_000 };
const run = (state: HealthState, ...events: HealthEvent[]) =>
  events.reduce((s, e) => reduceHealth(s, e, settings), state);

/** An endpoint with two partitions that both answered at t=1000. */
const liveEndpoint = () =>
  run(
    initialHealth(true, 0),
    { type: 'partitions', count: 2 },
    { type: 'batch', partition: 0, at: 1000 },
    { type: 'batch', partition: 1, at: 1000 },
  );

describe('where live changes come from', () => {
  it('when no endpoint is configured, then polling is the source and it reports its own trouble', () => {
    let state = initialHealth(false, 0);
    expect(pollingWanted(state)).toBe(true);
    expect(feedStatus(state)).toEqual({ source: 'polling', healthy: true });
    state = run(
      state,
      { type: 'poll-failed', message: 'hub throttled' },
      { type: 'tick', at: 1e9 },
    );
    expect(feedStatus(state)).toEqual({
      source: 'polling',
      healthy: false,
      message: 'hub throttled',
    });
    expect(feedStatus(run(state, { type: 'poll-ok' }))).toEqual({
      source: 'polling',
      healthy: true,
    });
  });

  it('when only some partitions answer, then polling carries on; once all do, the endpoint takes over', () => {
    let state = run(
      initialHealth(true, 0),
      { type: 'batch', partition: 0, at: 100 },
      { type: 'partitions', count: 2 },
      { type: 'batch', partition: 0, at: 200 },
    );
    expect(pollingWanted(state)).toBe(true);
    expect(feedStatus(state).message).toMatch(/connecting…/);
    state = run(state, { type: 'batch', partition: 1, at: 300 });
    expect(pollingWanted(state)).toBe(false);
    expect(feedStatus(state)).toEqual({ source: 'event-hubs', healthy: true });
  });

  it('when the partition count is not known yet, then answers from partitions do not make it live', () => {
    const state = run(
      initialHealth(true, 0),
      { type: 'batch', partition: 0, at: 100 },
      { type: 'batch', partition: 1, at: 100 },
    );
    expect(state.phase).toBe('connecting');
  });

  it('when the endpoint errs, then polling takes over with the reason, and it is live again only after every partition answers after the error', () => {
    let state = run(liveEndpoint(), { type: 'source-error', at: 2000, message: 'link detached' });
    expect(pollingWanted(state)).toBe(true);
    expect(feedStatus(state).message).toBe(
      'Event Hubs endpoint unavailable (link detached); polling instead',
    );
    state = run(state, { type: 'batch', partition: 0, at: 2500 });
    expect(state.phase).toBe('down');
    state = run(state, { type: 'batch', partition: 1, at: 2600 });
    expect(state.phase).toBe('live');
  });

  it('when a partition goes quiet past the stale limit, then the endpoint is down', () => {
    const state = liveEndpoint();
    expect(run(state, { type: 'tick', at: 5900 }).phase).toBe('live');
    const stale = run(state, { type: 'tick', at: 6001 });
    expect(stale.phase).toBe('down');
    expect(stale.reason).toBe(STALE);
  });

  it('when the endpoint never answers, then after twice the stale limit the operator is told what to check', () => {
    const state = initialHealth(true, 0);
    expect(run(state, { type: 'tick', at: 9999 }).reason).toBe('connecting…');
    expect(run(state, { type: 'tick', at: 10_001 }).reason).toBe(NOT_ANSWERING);
  });

  it('when an own write never comes back as a twin change event, then the route is missing and polling stays until a twin change arrives', () => {
    let state = run(liveEndpoint(), { type: 'own-write', key: 'd1', version: 4, at: 2000 });
    // A newer write to the same twin does not push the deadline out.
    state = run(state, { type: 'own-write', key: 'd1', version: 5, at: 10_000 });
    state = run(
      state,
      { type: 'batch', partition: 0, at: 16_000 },
      { type: 'batch', partition: 1, at: 16_000 },
      { type: 'tick', at: 17_001 },
    );
    expect(state.phase).toBe('down');
    expect(state.reason).toBe(NO_ROUTE);
    expect(state.awaitingEcho).toEqual({});
    // Batches alone do not bring it back: the route is what was missing.
    state = run(state, { type: 'batch', partition: 0, at: 17_500 });
    state = run(state, { type: 'batch', partition: 1, at: 17_500 });
    expect(state.phase).toBe('down');
    state = run(state, { type: 'twin-change', key: 'd9', version: 2 });
    expect(state.phase).toBe('live');
    expect(state.routeMissing).toBe(false);
  });

  it('when the echo of an own write arrives in time, then nothing changes', () => {
    const state = run(
      liveEndpoint(),
      { type: 'own-write', key: 'd1/m1', version: 7, at: 2000 },
      { type: 'twin-change', key: 'd1/m1', version: 6 },
    );
    // An older version is not the echo.
    expect(state.awaitingEcho['d1/m1']).toEqual({ version: 7, deadline: 17_000 });
    const echoed = run(
      state,
      { type: 'twin-change', key: 'd1/m1', version: 7 },
      { type: 'batch', partition: 0, at: 16_000 },
      { type: 'batch', partition: 1, at: 16_000 },
      { type: 'tick', at: 18_000 },
    );
    expect(echoed.phase).toBe('live');
  });

  it('when writes are made while polling, then no echo is awaited (the endpoint is not in use)', () => {
    const state = run(initialHealth(true, 0), { type: 'own-write', key: 'd1', version: 2, at: 0 });
    expect(state.awaitingEcho).toEqual({});
  });

  it('when a thousand twins are written at once, then only a bounded number of echoes is awaited', () => {
    let state = liveEndpoint();
    for (let i = 0; i < 1000; i++)
      state = run(state, { type: 'own-write', key: `d${i}`, version: 2, at: 2000 });
    expect(Object.keys(state.awaitingEcho)).toHaveLength(100);
  });

  it('when an event changes nothing tabs would see, then the same state object comes back (so no one is told)', () => {
    const live = liveEndpoint();
    expect(run(live, { type: 'poll-ok' })).toBe(live);
    expect(run(live, { type: 'tick', at: 2000 })).toBe(live);
    const polling = initialHealth(true, 0);
    expect(run(polling, { type: 'own-write', key: 'd1', version: 2, at: 0 })).toBe(polling);
    const failed = run(polling, { type: 'poll-failed', message: 'throttled' });
    expect(run(failed, { type: 'poll-failed', message: 'throttled' })).toBe(failed);
  });
});
