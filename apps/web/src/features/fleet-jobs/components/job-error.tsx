import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { ApiError } from '../../../lib/api-client.ts';

/**
 * Why a bulk job could not start or be read. A BFF without the hub's storage account, or an
 * operator without the role, is a state of this deployment rather than a failure: it is said
 * as such.
 */
export function JobError({ error, testId }: { error: Error; testId?: string }) {
  const code = error instanceof ApiError ? error.code : undefined;
  const title =
    code === 'file_upload_not_configured'
      ? 'Bulk jobs are not set up'
      : code === 'forbidden'
        ? 'Not allowed'
        : undefined;
  return (
    <MessageBar
      intent={title === undefined ? 'error' : 'warning'}
      data-testid={testId}
      data-code={code}
    >
      <MessageBarBody>
        {title && <MessageBarTitle>{title}</MessageBarTitle>}
        {error.message}
      </MessageBarBody>
    </MessageBar>
  );
}
