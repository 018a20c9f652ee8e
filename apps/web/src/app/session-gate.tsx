import { Button, MessageBar, MessageBarBody, Spinner, Text } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { ApiError, signIn, signOut } from '../lib/api-client.ts';
import { useMe } from './use-me.ts';

function Centered({ children }: { children: ReactNode }) {
  return (
    <div className="gate">
      <div className="gate-card">{children}</div>
    </div>
  );
}

/**
 * The console only renders for a signed-in operator with a role. Not signed in (or the
 * session ended): a sign-in page. Signed in without a Twinscope role: why, and a way out.
 */
export function SessionGate({ children }: { children: () => ReactNode }) {
  const me = useMe();
  if (me.isPending) {
    return (
      <Centered>
        <Spinner label="Checking your sign-in…" />
      </Centered>
    );
  }
  if (me.error) {
    if (me.error instanceof ApiError && me.error.status === 401) {
      return (
        <Centered>
          <h1>Twinscope</h1>
          <Text as="p">
            {me.error.message.includes('expired')
              ? 'Your session has ended. Sign in again to continue.'
              : 'Sign in with your organization account to see your IoT hub.'}
          </Text>
          <Button appearance="primary" onClick={signIn} data-testid="sign-in">
            Sign in with Microsoft
          </Button>
        </Centered>
      );
    }
    return (
      <Centered>
        <MessageBar intent="error">
          <MessageBarBody>{me.error.message}</MessageBarBody>
        </MessageBar>
        <Button onClick={() => void me.refetch()}>Try again</Button>
      </Centered>
    );
  }
  if (me.data.noAccess) {
    return (
      <Centered>
        <h1>No access yet</h1>
        <Text as="p" data-testid="no-access">
          Signed in as {me.data.user.name}
          {me.data.user.username ? ` (${me.data.user.username})` : ''}. {me.data.noAccess}
        </Text>
        <Button onClick={() => void signOut()}>Sign out</Button>
      </Centered>
    );
  }
  return <>{children()}</>;
}
