import {
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { EnrollmentKind } from '@twinscope/contract';
import { Link } from '../../../lib/router.tsx';
import { useEnrollment } from '../api/get-enrollment.ts';
import { EnrollmentEditor } from './enrollment-editor.tsx';
import { RegistrationsTable } from './registrations-table.tsx';

/**
 * An enrollment group's or an individual enrollment's page (or, without an id, the page
 * creating one): the form, and under an existing one the devices that registered through it.
 */
export function EnrollmentPage({
  kind,
  id,
  dark,
  refusal,
}: {
  kind: EnrollmentKind;
  /** The enrollment shown; none to create one. */
  id?: string;
  dark: boolean;
  /** Why the operator may not change enrollments (the policy's reason), or nothing. */
  refusal?: string;
}) {
  const enrollment = useEnrollment(kind, id ?? '', id !== undefined);
  const reload = async () => (await enrollment.refetch()).data;
  if (id === undefined)
    return <EnrollmentEditor kind={kind} dark={dark} refusal={refusal} reload={reload} />;
  if (enrollment.isPending) return <Spinner label={`Loading ${id}…`} />;
  if (enrollment.isError)
    return (
      <MessageBar intent="error" data-testid="load-error">
        <MessageBarBody>
          <MessageBarTitle>{enrollment.error.message}</MessageBarTitle>
          <Link to="/provisioning">Back to provisioning</Link>
        </MessageBarBody>
      </MessageBar>
    );
  return (
    <>
      <EnrollmentEditor
        key={`${kind}/${id}`}
        kind={kind}
        enrollment={enrollment.data}
        dark={dark}
        refusal={refusal}
        reload={reload}
      />
      <section className="page" aria-labelledby="registrations-title">
        <h2 id="registrations-title">Registrations</h2>
        <Text size={200} className="muted">
          {kind === 'group'
            ? 'The devices that registered through this group, and where DPS assigned each.'
            : 'Where DPS assigned the device when it registered.'}
        </Text>
        <RegistrationsTable kind={kind} id={enrollment.data.id} refusal={refusal} />
      </section>
    </>
  );
}
