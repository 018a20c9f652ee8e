import {
  Button,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { Twin, TwinRef } from '@twinscope/contract';
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { useVersion, useVersions } from '../api/versions.ts';
import { comparedVersions, versionText } from '../version-model.ts';
import { CatchingUpNotice } from './catching-up.tsx';
import { RestoreDialog } from './restore-dialog.tsx';
import { VersionList } from './version-list.tsx';

const DiffView = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.DiffView })),
);

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
  const { a, b, options } = comparedVersions(
    versions.map((v) => v.version),
    focus,
    { a: chosenA, b: chosenB },
  );
  const atA = useVersion(target, showDiff || restoring ? a : undefined);
  const atB = useVersion(target, showDiff ? b : undefined);

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
      <VersionList versions={versions} gaps={gaps} focus={focus} />
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
              <DiffView
                original={versionText(atA.data)}
                modified={versionText(atB.data)}
                dark={dark}
              />
            </div>
          </Suspense>
        ) : (
          <Spinner size="tiny" label="Rebuilding both versions…" />
        ))}
      <RestoreDialog
        target={target}
        twin={twin}
        version={a}
        at={atA}
        open={restoring}
        onClose={() => setRestoring(false)}
      />
    </section>
  );
}
