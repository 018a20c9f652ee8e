import type { Twin } from '@twinscope/contract';
import { deepEqual } from '@twinscope/twin';
import { editableFrom, formatDoc, parseEditable, rebase, type EditableDoc } from './edit-model.ts';

/** The twin editor's state: what the edits are based on, what is typed, what came in. */
export interface EditState {
  /** The server document the edits are based on, with its etag and version. */
  base: { doc: EditableDoc; etag: string; version: number };
  text: string;
  /** A newer twin that arrived while the operator had unsaved edits. */
  incoming?: Twin;
  /** The twin as it is on the hub after a save was refused for a stale etag. */
  conflict?: Twin;
  reviewing: boolean;
  notice?: string;
  /**
   * Bumped whenever the last save's outcome no longer applies (its error must go): the
   * component resets its mutation when this changes.
   */
  saveEpoch: number;
}

export type EditAction =
  | { type: 'typed'; text: string }
  /** A twin from the server: a live event or a refetch. */
  | { type: 'server-twin'; twin: Twin }
  | { type: 'saved'; twin: Twin }
  | { type: 'conflict'; twin: Twin }
  /** Move onto a newer twin, keeping (re-applying) the operator's edits or dropping them. */
  | { type: 'take-latest'; twin: Twin; keepMine: boolean }
  | { type: 'discard' }
  | { type: 'review'; open: boolean }
  | { type: 'notice'; notice: string | undefined };

export const SAVED_NOTICE = 'Saved. Only the changed keys were sent.';
export const APPLIED_NOTICE = 'The hub holds your change: it was applied.';

const sameEditable = (a: EditableDoc, b: EditableDoc) =>
  deepEqual(a.tags, b.tags) && deepEqual(a.properties.desired, b.properties.desired);

const baseOf = (twin: Twin) => ({
  doc: editableFrom(twin),
  etag: twin.etag,
  version: twin.version,
});

export function initialEditState(twin: Twin): EditState {
  const base = baseOf(twin);
  return { base, text: formatDoc(base.doc), reviewing: false, saveEpoch: 0 };
}

export const isDirty = (state: EditState): boolean => state.text !== formatDoc(state.base.doc);

function without<K extends 'incoming' | 'conflict' | 'notice'>(
  state: EditState,
  ...keys: K[]
): EditState {
  const next = { ...state };
  for (const key of keys) delete next[key];
  return next;
}

/** A newer twin from the server, decided against what the operator has typed. */
function serverTwin(state: EditState, twin: Twin): EditState {
  if (twin.version <= state.base.version) return state;
  const latest = editableFrom(twin);
  if (sameEditable(latest, state.base.doc))
    // Only reported or identity fields moved: the edits still apply, under the new etag.
    return { ...state, base: { ...state.base, etag: twin.etag, version: twin.version } };
  if (!isDirty(state)) return { ...state, base: baseOf(twin), text: formatDoc(latest) };
  const mine = parseEditable(state.text);
  if (mine.ok && sameEditable(latest, mine.doc))
    // The hub already holds exactly these edits (a save whose answer was lost, or someone
    // made the same change): nothing is left to save.
    return {
      ...without(state, 'incoming'),
      base: baseOf(twin),
      text: formatDoc(latest),
      notice: APPLIED_NOTICE,
      saveEpoch: state.saveEpoch + 1,
    };
  return { ...state, incoming: twin };
}

export function editReducer(state: EditState, action: EditAction): EditState {
  switch (action.type) {
    case 'typed':
      return action.text === state.text ? state : { ...state, text: action.text };
    case 'server-twin':
      return serverTwin(state, action.twin);
    case 'saved': {
      const base = baseOf(action.twin);
      return {
        ...without(state, 'incoming', 'conflict'),
        base,
        text: formatDoc(base.doc),
        reviewing: false,
        notice: SAVED_NOTICE,
      };
    }
    case 'conflict':
      return { ...state, conflict: action.twin };
    case 'take-latest': {
      const latest = editableFrom(action.twin);
      const mine = parseEditable(state.text);
      const next = action.keepMine && mine.ok ? rebase(state.base.doc, mine.doc, latest) : latest;
      return {
        ...without(state, 'incoming', 'conflict'),
        base: baseOf(action.twin),
        text: formatDoc(next),
        saveEpoch: state.saveEpoch + 1,
      };
    }
    case 'discard':
      // With a newer twin waiting, discarding means taking it.
      if (state.incoming)
        return editReducer(state, { type: 'take-latest', twin: state.incoming, keepMine: false });
      return { ...state, text: formatDoc(state.base.doc), saveEpoch: state.saveEpoch + 1 };
    case 'review':
      return { ...state, reviewing: action.open };
    case 'notice':
      return action.notice === undefined
        ? without(state, 'notice')
        : { ...state, notice: action.notice };
  }
}
