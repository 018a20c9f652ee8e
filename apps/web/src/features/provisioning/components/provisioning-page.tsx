import {
  Button,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { ReactElement } from 'react';
import { navigate, newEnrollmentPath } from '../../../lib/router.tsx';
import { useProvisioning } from '../api/get-provisioning.ts';
import { CopyValue } from './copy-value.tsx';
import { EnrollmentTable } from './enrollment-table.tsx';
import { NotConfigured } from './not-configured.tsx';

/**
 * The Device Provisioning Service: what devices are given (the id scope and the endpoint
 * they dial), its enrollment groups and individual enrollments, and for whom the policy
 * allows, the way to create one.
 */
export function ProvisioningPage({
  refusal,
}: {
  /** Why the operator may not change enrollments (the policy's reason), or nothing. */
  refusal?: string;
}) {
  const overview = useProvisioning();
  const data = overview.data;
  const configured = data?.service !== undefined;
  const guard = (button: ReactElement) =>
    refusal === undefined ? (
      button
    ) : (
      <Tooltip content={refusal} relationship="description">
        {button}
      </Tooltip>
    );
  const create = (kind: 'group' | 'individual', label: string) =>
    guard(
      <Button
        appearance={kind === 'group' ? 'primary' : 'secondary'}
        disabled={refusal !== undefined}
        onClick={() => navigate(newEnrollmentPath(kind))}
      >
        {label}
      </Button>,
    );

  return (
    <section className="page" aria-labelledby="provisioning-title" data-testid="provisioning">
      <div className="action-row">
        <h1 className="page-title" id="provisioning-title">
          Provisioning
        </h1>
        <span className="spacer" />
        <Button onClick={() => void overview.refetch()} disabled={overview.isFetching}>
          {overview.isFetching && !overview.isPending ? 'Refreshing…' : 'Refresh'}
        </Button>
        {configured && create('group', 'New enrollment group')}
        {configured && create('individual', 'New individual enrollment')}
      </div>
      {overview.isPending ? (
        <Spinner size="tiny" label="Reading the Device Provisioning Service…" />
      ) : overview.isError ? (
        <MessageBar intent="error" data-testid="provisioning-error">
          <MessageBarBody>{overview.error.message}</MessageBarBody>
        </MessageBar>
      ) : !configured ? (
        <NotConfigured />
      ) : (
        <>
          <Text className="muted">
            Devices register with the Device Provisioning Service, which checks them against an
            enrollment and assigns them to an IoT hub with the enrollment&apos;s initial twin.
          </Text>
          <div className="identity-card" role="group" aria-label="Device Provisioning Service">
            <div className="field">
              <Text size={200} className="muted">
                Service
              </Text>
              <Text>{data.service}</Text>
            </div>
            <div className="field">
              <Text size={200} className="muted">
                ID scope
              </Text>
              <CopyValue label="ID scope" value={data.idScope} />
            </div>
            <div className="field">
              <Text size={200} className="muted">
                Device endpoint
              </Text>
              <CopyValue label="Device endpoint" value={data.deviceEndpoint} />
            </div>
          </div>
          {data.truncated && (
            <MessageBar intent="warning">
              <MessageBarBody>
                The service holds more than the page shows: the first 1,000 groups and 1,000
                enrollments are listed.
              </MessageBarBody>
            </MessageBar>
          )}
          <h2 id="groups">Enrollment groups</h2>
          <Text size={200} className="muted">
            Many devices sharing one credential: a signing CA certificate, or a group key from which
            each device derives its own.
          </Text>
          <EnrollmentTable kind="group" items={data.groups} />
          <h2 id="enrollments">Individual enrollments</h2>
          <Text size={200} className="muted">
            One device each, with its own key, certificate or TPM.
          </Text>
          <EnrollmentTable kind="individual" items={data.enrollments} />
        </>
      )}
    </section>
  );
}
