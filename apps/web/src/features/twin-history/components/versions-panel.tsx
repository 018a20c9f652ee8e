import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { Twin, TwinAtVersion, TwinRef } from '@twinscope/contract';
import { minimalPatch, stripReadOnly, type JsonObject } from '@twinscope/twin';
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { relativeTime } from '../../../lib/format.ts';
import { useRestoreVersion, useVersion, useVersions } from '../api/versions.ts';
import { CatchingUpNotice } from './catching-up.tsx';

const DiffView = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.DiffView })),
);

/** The version a twin page's link opens (`?version=12`), if it names one. */
export function versionOf(search: URLSearchParams): number | undefined {
  const version = Number(search.get('version'));
  return Number.isInteger(version) && version > 0 ? version : undefined;
}

const text = (doc: TwinAtVersion) =>
  JSON.stringify(
    { tags: doc.tags, properties: { desired: doc.desired, reported: doc.reported } },
    null,
    2,
  );

/** The patch that takes the twin's tags and desired properties back to `then`. */
function restorePatch(
  twin: Twin,
  then: TwinAtVersion,
): { tags?: JsonObject; desired?: JsonObject } {
  const tags = minimalPatch(twin.tags, then.tags);
  const desired = minimalPatch(stripReadOnly(twin.properties.desired), then.desired);
  return {
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(Object.keys(desired).length > 0 ? { desired } : {}),
  };
}

/**
 * Every version of this twin that Twinscope's consumer saw, whoever made it: who and when,
 * the gaps, a diff of any two versions, and "restore": the minimal patch from now to then,
 * reviewed, then sent with the twin's current etag like any edit.
 */
export function VersionsPanel({
  target,
  twin,
  dark,
  canEdit,
  focus,
}: {
  target: TwinRef;
  twin: Twin;
  dark: boolean;
  canEdit: boolean;
  /** A version to open (a deep link from the fleet's activity): compared with the one before. */
  focus?: number | undefined;
}) {
  const list = useVersions(target);
  const versions = useMemo(
    () => list.data?.pages.flatMap((page) => page.versions) ?? [],
    [list.data],
  );
  const gaps = useMemo(() => list.data?.pages.flatMap((page) => page.gaps) ?? [], [list.data]);
  const [chosenA, setA] = useState<number>();
  const [chosenB, setB] = useState<number>();
  const [showDiff, setShowDiff] = useState(focus !== undefined);
  const [restoring, setRestoring] = useState(false);
  const focusAt = versions.findIndex((v) => v.version === focus);
  // A deep-linked version older than the pages loaded: load pages until it is listed.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const focusMissing = focus !== undefined && focusAt < 0;
  useEffect(() => {
    if (focusMissing && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [focusMissing, hasNextPage, isFetchingNextPage, fetchNextPage]);
  useEffect(() => {
    if (focusAt >= 0)
      document.getElementById(`version-${focus}`)?.scrollIntoView({ block: 'center' });
  }, [focus, focusAt]);
  const a =
    chosenA ??
    (focus !== undefined
      ? (versions[focusAt + 1]?.version ?? focus - 1)
      : (versions[1]?.version ?? versions[0]?.version));
  const b = chosenB ?? focus ?? versions[0]?.version;
  // A version chosen by link may not be among those listed: the selects still offer it.
  const options = [
    ...new Set([...versions.map((v) => v.version), ...[a, b].filter((v) => v !== undefined)]),
  ].sort((x, y) => y - x);
  const atA = useVersion(target, showDiff || restoring ? a : undefined);
  const atB = useVersion(target, showDiff ? b : undefined);
  const restore = useRestoreVersion(target, () => setRestoring(false));
  const patch = atA.data ? restorePatch(twin, atA.data) : undefined;

  if (list.isPending) return <Spinner size="tiny" label="Loading the twin's versions…" />;
  if (list.error)
    return (
      <MessageBar intent="info">
        <MessageBarBody>{list.error.message}</MessageBarBody>
      </MessageBar>
    );
  if (versions.length === 0)
    return (
      <p className="muted">
        No versions yet: the history starts with the first change Twinscope&apos;s consumer sees.
      </p>
    );
  const choose = (set: (v: number) => void) => (_e: unknown, d: { value: string }) => {
    set(Number(d.value));
    setShowDiff(false);
  };
  return (
    <section className="method-panel" aria-label="Versions" data-testid="versions">
      <CatchingUpNotice events={list.data?.pages[0]?.catchingUp} />
      <ol className="history-list">
        {versions.map((v) => {
          const gap = gaps.find((g) => g.to === v.version - 1);
          return (
            <li
              key={v.version}
              id={`version-${v.version}`}
              className={v.version === focus ? 'history-entry focused' : 'history-entry'}
              data-testid="version"
            >
              <div className="history-line">
                <strong>v{v.version}</strong>
                <span>{v.sections.join(', ')}</span>
                <Text className="muted">by {v.by}</Text>
                <span className="muted" title={new Date(v.at).toLocaleString()}>
                  {relativeTime(v.at)}
                </span>
                {v.oversized && <Badge color="warning">too large to keep</Badge>}
              </div>
              {v.changes && v.changes.length > 0 && (
                <ul className="change-lines" aria-label="What the event says">
                  {v.changes.map((line) => (
                    <li key={line}>
                      <code>{line}</code>
                    </li>
                  ))}
                </ul>
              )}
              {gap && (
                <div className="muted" data-testid="version-gap">
                  {gap.from === gap.to
                    ? `Version ${gap.from} was not seen`
                    : `Versions ${gap.from}–${gap.to} were not seen`}{' '}
                  (the BFF was down longer than the endpoint keeps events, or changes merged).
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {list.hasNextPage && (
        <Button disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          Older versions
        </Button>
      )}
      <div className="action-row">
        <Text>Compare</Text>
        <Select aria-label="Version A" value={String(a)} onChange={choose(setA)}>
          {options.map((v) => (
            <option key={v} value={v}>
              v{v}
            </option>
          ))}
        </Select>
        <Text>with</Text>
        <Select aria-label="Version B" value={String(b)} onChange={choose(setB)}>
          {options.map((v) => (
            <option key={v} value={v}>
              v{v}
            </option>
          ))}
        </Select>
        <Button onClick={() => setShowDiff(!showDiff)}>
          {showDiff ? 'Hide differences' : 'Show differences'}
        </Button>
        {canEdit && (
          <Button onClick={() => setRestoring(true)} disabled={a === undefined}>
            Restore v{a}…
          </Button>
        )}
      </div>
      {showDiff &&
        (atA.error || atB.error ? (
          <MessageBar intent="warning">
            <MessageBarBody>{(atA.error ?? atB.error)!.message}</MessageBarBody>
          </MessageBar>
        ) : atA.data && atB.data ? (
          <Suspense fallback={<Spinner size="tiny" label="Loading the diff view…" />}>
            <div data-testid="version-diff">
              <DiffView original={text(atA.data)} modified={text(atB.data)} dark={dark} />
            </div>
          </Suspense>
        ) : (
          <Spinner size="tiny" label="Rebuilding both versions…" />
        ))}
      <ConfirmDialog
        open={restoring}
        title={`Restore v${a}?`}
        confirmLabel={`Send the patch for v${a}`}
        pending={restore.isPending || atA.isFetching}
        error={restore.error ?? atA.error}
        onCancel={() => {
          setRestoring(false);
          restore.reset();
        }}
        onConfirm={() => {
          if (!patch || Object.keys(patch).length === 0) {
            setRestoring(false);
            return;
          }
          restore.mutate({ etag: twin.etag, ...patch });
        }}
        testId="restore-dialog"
      >
        {patch === undefined ? (
          <Spinner size="tiny" label="Rebuilding the version…" />
        ) : Object.keys(patch).length === 0 ? (
          <p>Tags and desired properties are already as they were at v{a}.</p>
        ) : (
          <>
            <p>
              This patch, sent with the twin&apos;s current etag, puts tags and desired properties
              back as they were at v{a} (reported properties are the device&apos;s).
            </p>
            <pre className="history-change" data-testid="restore-patch">
              {JSON.stringify(patch, null, 2)}
            </pre>
          </>
        )}
      </ConfirmDialog>
    </section>
  );
}
