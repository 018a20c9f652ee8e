import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { Twin, TwinRef } from '@twinscope/contract';
import { lazy, Suspense, useEffect, useMemo, useReducer, useRef } from 'react';
import type { EditorMarker } from '../../../components/monaco.tsx';
import { ApiError } from '../../../lib/api-client.ts';
import { usePatchTwin } from '../api/patch-twin.ts';
import { editableFrom, formatDoc, parseEditable, review } from '../edit-model.ts';
import { editReducer, initialEditState, isDirty } from '../edit-state.ts';
import { ConflictView } from './conflict-view.tsx';
import { IncomingBanner } from './incoming-banner.tsx';
import { ReportedPanel } from './reported-panel.tsx';
import { ReviewDialog } from './review-dialog.tsx';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

export interface TwinEditorProps {
  target: TwinRef;
  twin: Twin;
  dark: boolean;
  /** Why the operator may not change this twin (the policy's reason, shown by a disabled Save). */
  refusal?: string;
}

/**
 * Edits a twin's tags and desired properties. Saves send only the changed keys with the etag
 * the edits are based on; a conflict, or a change arriving while editing, never loses what
 * the operator typed. The state and its rules live in `edit-state.ts`.
 */
export function TwinEditor({ target, twin, dark, refusal }: TwinEditorProps) {
  const canEdit = refusal === undefined;
  const [state, dispatch] = useReducer(editReducer, twin, initialEditState);
  const { base, text, incoming, conflict, reviewing, notice } = state;
  const dirty = isDirty(state);
  const mutation = usePatchTwin(target, (saved) => dispatch({ type: 'saved', twin: saved }));
  const { reset } = mutation;

  // A newer twin from the server (live event or refetch).
  useEffect(() => dispatch({ type: 'server-twin', twin }), [twin]);
  // The last save's outcome no longer applies (edits dropped, or the hub already holds them).
  useEffect(() => {
    if (state.saveEpoch > 0) reset();
  }, [state.saveEpoch, reset]);

  const parsed = useMemo(() => parseEditable(text), [text]);
  const result = useMemo(
    () => (parsed.ok ? review(base.doc, parsed.doc) : undefined),
    [parsed, base.doc],
  );
  const markers: EditorMarker[] = useMemo(() => {
    if (!parsed.ok)
      return [
        {
          message: parsed.message,
          ...(parsed.offset !== undefined ? { offset: parsed.offset } : {}),
        },
      ];
    return (result?.violations ?? []).map((v) => ({ location: v.location, message: v.message }));
  }, [parsed, result]);

  const blocker = !parsed.ok
    ? parsed.message
    : result && result.violations.length > 0
      ? `${result.violations[0]!.path}: ${result.violations[0]!.message}`
      : undefined;

  const save = () => {
    dispatch({ type: 'notice', notice: undefined });
    if (!canEdit || blocker || !result) return;
    if (result.empty) {
      dispatch({ type: 'notice', notice: 'Nothing to save: the document matches the twin.' });
      return;
    }
    mutation.mutate(
      { etag: base.etag, ...result.patch },
      {
        onError: (error) => {
          if (error instanceof ApiError && error.code === 'conflict' && error.current)
            dispatch({ type: 'conflict', twin: error.current });
        },
      },
    );
  };
  const takeLatest = (latest: Twin, keepMine: boolean) =>
    dispatch({ type: 'take-latest', twin: latest, keepMine });

  // Ctrl+S / ⌘S saves from anywhere on the page (the editor has its own binding too).
  const saveRef = useRef(save);
  useEffect(() => {
    saveRef.current = save;
  });
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
        event.preventDefault();
        saveRef.current();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const saveError =
    mutation.error instanceof ApiError && mutation.error.code !== 'conflict'
      ? mutation.error
      : undefined;

  return (
    <section className="twin-editor" aria-label="Twin editor">
      <div className="twin-editor-toolbar">
        <Text weight="semibold">Tags and desired properties</Text>
        {dirty ? (
          <Badge color="warning">Unsaved changes</Badge>
        ) : (
          <Badge appearance="outline">Saved</Badge>
        )}
        <Text size={200} className="muted">
          version {base.version} · etag {base.etag}
        </Text>
        <span className="spacer" />
        <Button disabled={!dirty} onClick={() => dispatch({ type: 'discard' })}>
          Discard
        </Button>
        <Button
          disabled={!parsed.ok || !dirty}
          onClick={() => dispatch({ type: 'review', open: true })}
        >
          Review changes
        </Button>
        <Tooltip content={refusal ?? 'Save (Ctrl+S / ⌘S)'} relationship="description">
          <Button
            appearance="primary"
            disabled={!canEdit || !dirty || !!blocker || mutation.isPending}
            onClick={save}
          >
            {mutation.isPending ? <Spinner size="tiny" /> : 'Save'}
          </Button>
        </Tooltip>
      </div>

      {blocker && (
        <MessageBar intent="error" data-testid="editor-blocker">
          <MessageBarBody>
            <MessageBarTitle>Cannot save</MessageBarTitle>
            {blocker}
          </MessageBarBody>
        </MessageBar>
      )}
      {saveError && (
        <MessageBar intent="error" data-testid="save-error">
          <MessageBarBody>
            <MessageBarTitle>Not saved</MessageBarTitle>
            {saveError.message}
            {saveError.violations.length > 0 &&
              ` (${saveError.violations.map((v) => v.path).join(', ')})`}
          </MessageBarBody>
        </MessageBar>
      )}
      {notice && !dirty && (
        <MessageBar intent="success">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      {incoming && !conflict && (
        <IncomingBanner
          base={base.doc}
          incoming={incoming}
          onReapply={() => takeLatest(incoming, true)}
        />
      )}
      {conflict && (
        <ConflictView
          mine={text}
          theirs={formatDoc(editableFrom(conflict))}
          dark={dark}
          onReapply={() => takeLatest(conflict, true)}
          onDiscard={() => takeLatest(conflict, false)}
        />
      )}

      <div className="twin-editor-body">
        <Suspense fallback={<Spinner label="Loading editor…" />}>
          <JsonEditor
            value={text}
            onChange={(next) => dispatch({ type: 'typed', text: next })}
            onSave={save}
            markers={markers}
            dark={dark}
            ariaLabel="Twin tags and desired properties"
          />
        </Suspense>
        <ReportedPanel twin={twin} />
      </div>

      <ReviewDialog
        open={reviewing}
        onOpenChange={(open) => dispatch({ type: 'review', open })}
        result={result}
        etag={base.etag}
        original={formatDoc(base.doc)}
        modified={parsed.ok ? formatDoc(parsed.doc) : text}
        dark={dark}
        canSave={canEdit && !blocker && !mutation.isPending}
        onSave={save}
      />
    </section>
  );
}
