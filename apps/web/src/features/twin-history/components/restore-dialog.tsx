import { Spinner } from '@fluentui/react-components';
import type { Twin, TwinRef } from '@twinscope/contract';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { useRestoreVersion, type useVersion } from '../api/versions.ts';
import { restorePatch } from '../version-model.ts';

/**
 * "Restore": the minimal patch from the twin now back to a version, shown before it is sent
 * with the twin's current etag like any edit; nothing is sent when nothing differs.
 */
export function RestoreDialog({
  target,
  twin,
  version,
  at,
  open,
  onClose,
}: {
  target: TwinRef;
  twin: Twin;
  /** The version to go back to. */
  version: number | undefined;
  /** That version, rebuilt. */
  at: ReturnType<typeof useVersion>;
  open: boolean;
  onClose(): void;
}) {
  const restore = useRestoreVersion(target, onClose);
  const patch = at.data ? restorePatch(twin, at.data) : undefined;
  return (
    <ConfirmDialog
      open={open}
      title={`Restore v${version}?`}
      confirmLabel={`Send the patch for v${version}`}
      pending={restore.isPending || at.isFetching}
      error={restore.error ?? at.error}
      onCancel={() => {
        onClose();
        restore.reset();
      }}
      onConfirm={() => {
        if (!patch || Object.keys(patch).length === 0) {
          onClose();
          return;
        }
        restore.mutate({ etag: twin.etag, ...patch });
      }}
      testId="restore-dialog"
    >
      {patch === undefined ? (
        <Spinner size="tiny" label="Rebuilding the version…" />
      ) : Object.keys(patch).length === 0 ? (
        <p>Tags and desired properties are already as they were at v{version}.</p>
      ) : (
        <>
          <p>
            This patch, sent with the twin&apos;s current etag, puts tags and desired properties
            back as they were at v{version} (reported properties are the device&apos;s).
          </p>
          <pre className="history-change" data-testid="restore-patch">
            {JSON.stringify(patch, null, 2)}
          </pre>
        </>
      )}
    </ConfirmDialog>
  );
}
