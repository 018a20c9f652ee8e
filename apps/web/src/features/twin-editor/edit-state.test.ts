import type { Twin } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import {
  APPLIED_NOTICE,
  editReducer,
  initialEditState,
  isDirty,
  SAVED_NOTICE,
  type EditAction,
  type EditState,
} from './edit-state.ts';

const twin = (version: number, desired: Record<string, unknown>, reported = {}): Twin => ({
  deviceId: 'd1',
  moduleId: 'm1',
  etag: `e${version}`,
  version,
  tags: {},
  properties: { desired: { ...desired, $version: version }, reported },
});

const typed = (desired: Record<string, unknown>): EditAction => ({
  type: 'typed',
  text: `${JSON.stringify({ tags: {}, properties: { desired } }, null, 2)}\n`,
});

const run = (state: EditState, ...actions: EditAction[]) => actions.reduce(editReducer, state);

describe('the twin editor state', () => {
  it('when a newer twin arrives with nothing typed, then the editor shows it', () => {
    const state = run(initialEditState(twin(1, { a: 1 })), {
      type: 'server-twin',
      twin: twin(2, { a: 2 }),
    });
    expect(state.base.version).toBe(2);
    expect(JSON.parse(state.text)).toEqual({ tags: {}, properties: { desired: { a: 2 } } });
    expect(state.incoming).toBeUndefined();
  });

  it('when a newer twin arrives over unsaved edits, then the edits stay and the newer twin waits; re-applying keeps both', () => {
    let state = run(initialEditState(twin(1, { a: 1, b: 1 })), typed({ a: 1, b: 5 }), {
      type: 'server-twin',
      twin: twin(2, { a: 9, b: 1 }),
    });
    expect(isDirty(state)).toBe(true);
    expect(state.incoming?.version).toBe(2);
    expect(state.base.version).toBe(1);
    state = run(state, { type: 'take-latest', twin: state.incoming!, keepMine: true });
    expect(state.incoming).toBeUndefined();
    expect(state.base.etag).toBe('e2');
    // Theirs (a: 9) and mine (b: 5) together.
    expect(JSON.parse(state.text).properties.desired).toEqual({ a: 9, b: 5 });
  });

  it('when only reported properties moved, then the edits stay and go out under the new etag', () => {
    const state = run(initialEditState(twin(1, { a: 1 })), typed({ a: 2 }), {
      type: 'server-twin',
      twin: { ...twin(1, { a: 1 }, { uptime: 5 }), version: 2, etag: 'e2' },
    });
    expect(state.incoming).toBeUndefined();
    expect(state.base.etag).toBe('e2');
    expect(JSON.parse(state.text).properties.desired).toEqual({ a: 2 });
  });

  it('when the hub already holds exactly what was typed, then it says so and the last save error is to be cleared', () => {
    const state = run(initialEditState(twin(1, { a: 1 })), typed({ a: 2 }), {
      type: 'server-twin',
      twin: twin(2, { a: 2 }),
    });
    expect(isDirty(state)).toBe(false);
    expect(state.notice).toBe(APPLIED_NOTICE);
    expect(state.saveEpoch).toBe(1);
  });

  it('when an older or equal version arrives (a late poll), then nothing changes', () => {
    const start = run(initialEditState(twin(3, { a: 1 })), typed({ a: 2 }));
    expect(run(start, { type: 'server-twin', twin: twin(2, { a: 7 }) })).toBe(start);
    expect(run(start, { type: 'server-twin', twin: twin(3, { a: 7 }) })).toBe(start);
  });

  it('when a save is refused for a stale etag, then the edits are kept beside the hub twin until the operator chooses', () => {
    let state = run(initialEditState(twin(1, { a: 1 })), typed({ a: 2 }), {
      type: 'conflict',
      twin: twin(4, { a: 3 }),
    });
    expect(isDirty(state)).toBe(true);
    expect(state.conflict?.version).toBe(4);
    state = run(state, { type: 'take-latest', twin: state.conflict!, keepMine: false });
    expect(state.conflict).toBeUndefined();
    expect(isDirty(state)).toBe(false);
    expect(JSON.parse(state.text).properties.desired).toEqual({ a: 3 });
  });

  it('when saved, then the answer becomes the base and the review closes', () => {
    const state = run(
      initialEditState(twin(1, { a: 1 })),
      typed({ a: 2 }),
      { type: 'review', open: true },
      { type: 'saved', twin: twin(2, { a: 2 }) },
    );
    expect(state).toMatchObject({ reviewing: false, notice: SAVED_NOTICE });
    expect(state.base.etag).toBe('e2');
    expect(isDirty(state)).toBe(false);
  });

  it('when discarding with a newer twin waiting, then the newer twin is taken', () => {
    const state = run(
      initialEditState(twin(1, { a: 1 })),
      typed({ a: 2 }),
      { type: 'server-twin', twin: twin(2, { a: 5 }) },
      { type: 'discard' },
    );
    expect(state.base.version).toBe(2);
    expect(JSON.parse(state.text).properties.desired).toEqual({ a: 5 });
    expect(isDirty(state)).toBe(false);
  });
});
