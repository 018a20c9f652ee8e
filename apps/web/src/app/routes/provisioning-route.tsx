import type { EnrollmentKind } from '@twinscope/contract';
import { EnrollmentPage } from '../../features/provisioning/components/enrollment-page.tsx';
import { ProvisioningPage } from '../../features/provisioning/components/provisioning-page.tsx';
import { usePermissions } from '../use-permissions.ts';

/** The Device Provisioning Service: anyone reads it; the policy says who changes enrollments. */
export function ProvisioningRoute() {
  const permissions = usePermissions();
  return <ProvisioningPage refusal={permissions.why('provisioning.write')} />;
}

/** One enrollment group or individual enrollment; without an id, the page creating one. */
export function EnrollmentRoute({
  kind,
  id,
  dark,
}: {
  kind: EnrollmentKind;
  id?: string;
  dark: boolean;
}) {
  const permissions = usePermissions();
  return (
    <EnrollmentPage
      key={`${kind}/${id ?? ''}`}
      kind={kind}
      {...(id === undefined ? {} : { id })}
      dark={dark}
      refusal={permissions.why('provisioning.write')}
    />
  );
}
