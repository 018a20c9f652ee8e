import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
} from '@fluentui/react-components';
import { lazy, Suspense } from 'react';

const DiffView = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.DiffView })),
);

/**
 * A save refused because someone else saved first: the twin as it is now beside the
 * operator's edits, and the two ways on (re-apply the edits on top, or take theirs).
 */
export function ConflictView(props: {
  mine: string;
  theirs: string;
  dark: boolean;
  onReapply(): void;
  onDiscard(): void;
}) {
  return (
    <div className="conflict" data-testid="conflict-view">
      <MessageBar intent="warning">
        <MessageBarBody>
          <MessageBarTitle>Someone else saved this twin first</MessageBarTitle>
          Nothing of yours was saved or lost. Left: the twin as it is now. Right: your edits.
        </MessageBarBody>
        <MessageBarActions>
          <Button appearance="primary" onClick={props.onReapply}>
            Re-apply my changes on top
          </Button>
          <Button onClick={props.onDiscard}>Discard mine, load theirs</Button>
        </MessageBarActions>
      </MessageBar>
      <Suspense fallback={<Spinner />}>
        <DiffView original={props.theirs} modified={props.mine} dark={props.dark} />
      </Suspense>
    </div>
  );
}
