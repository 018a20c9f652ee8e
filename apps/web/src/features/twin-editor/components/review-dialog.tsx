import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { lazy, Suspense } from 'react';
import type { PendingChange, Review } from '../edit-model.ts';

const DiffView = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.DiffView })),
);

const KIND = {
  add: { colour: 'success', words: 'will add' },
  change: { colour: 'informative', words: 'will change' },
  delete: { colour: 'danger', words: 'will delete' },
} as const satisfies Record<PendingChange['kind'], { colour: string; words: string }>;

/**
 * "Review changes" before a save: each key that will be added, changed or deleted, the
 * exact patch sent with its If-Match etag, and a diff of the twin against the edits.
 */
export function ReviewDialog({
  open,
  onOpenChange,
  result,
  etag,
  original,
  modified,
  dark,
  canSave,
  onSave,
}: {
  open: boolean;
  onOpenChange(open: boolean): void;
  /** The edits' review; none while the text is not a document. */
  result: Review | undefined;
  /** The etag the patch is sent with. */
  etag: string;
  /** The twin's document and the edited one, as text, for the diff. */
  original: string;
  modified: string;
  dark: boolean;
  /** Whether Save may send now (allowed, nothing blocking, not already sending). */
  canSave: boolean;
  onSave(): void;
}) {
  return (
    <Dialog open={open} onOpenChange={(_e, data) => onOpenChange(data.open)}>
      <DialogSurface className="review-dialog">
        <DialogBody>
          <DialogTitle>Review changes</DialogTitle>
          <DialogContent>
            {result && !result.empty ? (
              <>
                <ul className="change-list" data-testid="change-list">
                  {result.changes.map((change) => (
                    <li key={change.path}>
                      <code>{change.path}</code>{' '}
                      <Badge color={KIND[change.kind].colour}>{KIND[change.kind].words}</Badge>
                    </li>
                  ))}
                </ul>
                <Text weight="semibold">Patch that will be sent (If-Match: {etag})</Text>
                <pre className="patch-preview" data-testid="patch-preview">
                  {JSON.stringify(result.patch, null, 2)}
                </pre>
                <Suspense fallback={<Spinner />}>
                  <DiffView original={original} modified={modified} dark={dark} />
                </Suspense>
              </>
            ) : (
              <Text>Nothing has changed.</Text>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => onOpenChange(false)}>Close</Button>
            <Button
              appearance="primary"
              disabled={!canSave || !result || result.empty}
              onClick={onSave}
            >
              Save
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
