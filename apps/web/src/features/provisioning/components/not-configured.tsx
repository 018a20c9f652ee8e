import { Text } from '@fluentui/react-components';

/** What the page says when the BFF has no Device Provisioning Service to manage. */
export function NotConfigured() {
  return (
    <div className="empty" role="status" data-testid="provisioning-not-configured">
      <Text weight="semibold" size={400}>
        No Device Provisioning Service is configured
      </Text>
      <Text className="muted">
        Twinscope manages enrollments when the BFF is given a DPS: set{' '}
        <code>TWINSCOPE_DPS_CONNECTION_STRING</code> (a service connection string with the
        enrollment write permission), or <code>TWINSCOPE_DPS_HOST_NAME</code> to sign in with the
        BFF&apos;s Microsoft Entra identity, then restart it.
      </Text>
    </div>
  );
}
