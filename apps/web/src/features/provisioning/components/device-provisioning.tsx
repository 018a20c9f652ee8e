import { Badge, Text } from '@fluentui/react-components';
import { relativeTime } from '../../../lib/format.ts';
import { enrollmentPath, Link } from '../../../lib/router.tsx';
import { useDeviceProvisioning } from '../api/get-device-provisioning.ts';
import { KIND, STATUS_COLOR } from '../enrollment-text.ts';

/**
 * On a device's page: through which DPS enrollment it came to the hub, with its
 * registration's status, hub and time; or that it was created directly in the hub. Says
 * nothing when no DPS is configured, and a failure to ask stays a small note.
 */
export function DeviceProvisioning({ deviceId }: { deviceId: string }) {
  const query = useDeviceProvisioning(deviceId);
  if (query.isPending || (query.data && !query.data.configured)) return null;
  const { enrollment, registration } = query.data ?? {};
  return (
    <section
      className="device-provisioning"
      aria-labelledby="device-provisioning-title"
      data-testid="device-provisioning"
    >
      <h2 id="device-provisioning-title">Provisioning</h2>
      {query.isError ? (
        <Text size={200} className="inline-error" role="status">
          How this device was provisioned could not be read: {query.error.message}
        </Text>
      ) : enrollment ? (
        <Text>
          Provisioned through {KIND[enrollment.kind].noun}{' '}
          <Link to={enrollmentPath(enrollment.kind, enrollment.id)}>{enrollment.id}</Link>
        </Text>
      ) : registration ? (
        <Text>
          Registered through DPS as {registration.registrationId}; its enrollment no longer exists.
        </Text>
      ) : (
        <Text className="muted">Not provisioned through DPS (created directly in the hub).</Text>
      )}
      {registration && (
        <Text size={200} className="muted" data-testid="device-registration">
          <Badge appearance="tint" size="small" color={STATUS_COLOR[registration.status]}>
            {registration.status}
          </Badge>
          {registration.substatus && ` ${registration.substatus}`}
          {registration.assignedHub && ` · on ${registration.assignedHub}`}
          {(registration.updatedAt ?? registration.createdAt) &&
            ` · updated ${relativeTime(registration.updatedAt ?? registration.createdAt)}`}
          {registration.status === 'failed' &&
            registration.errorMessage &&
            ` · ${registration.errorMessage}`}
        </Text>
      )}
    </section>
  );
}
