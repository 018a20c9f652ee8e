import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
} from '@fluentui/react-components';
import type { Twin } from '@twinscope/contract';
import { changedKeys, editableFrom, type EditableDoc } from '../edit-model.ts';

/**
 * The twin changed on the hub while the operator was editing: which keys changed, that the
 * edits are kept, and re-applying them on the latest twin.
 */
export function IncomingBanner({
  base,
  incoming,
  onReapply,
}: {
  /** The document the edits started from. */
  base: EditableDoc;
  incoming: Twin;
  onReapply(): void;
}) {
  return (
    <MessageBar intent="warning" data-testid="incoming-banner">
      <MessageBarBody>
        <MessageBarTitle>This twin changed on the hub while you were editing</MessageBarTitle>
        Changed:{' '}
        {changedKeys(base, editableFrom(incoming)).join(', ') || 'tags or desired properties'}. Your
        unsaved edits are kept.
      </MessageBarBody>
      <MessageBarActions>
        <Button onClick={onReapply}>Re-apply my edits on the latest</Button>
      </MessageBarActions>
    </MessageBar>
  );
}
