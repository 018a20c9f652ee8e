import {
  Badge,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Switch,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { Enrollment, EnrollmentKind } from '@twinscope/contract';
import { useEffect, useMemo, useState, type ReactElement } from 'react';
import { ApiError } from '../../../lib/api-client.ts';
import { relativeTime } from '../../../lib/format.ts';
import { enrollmentPath, navigate } from '../../../lib/router.tsx';
import { useSaveEnrollment } from '../api/save-enrollment.ts';
import {
  enrollmentInput,
  formOf,
  isFormDirty,
  newEnrollmentForm,
  toggledInput,
  type EnrollmentForm,
  type FormField,
} from '../enrollment-form.ts';
import { KIND } from '../enrollment-text.ts';
import { checkInitialTwin } from '../initial-twin.ts';
import { AllocationFields } from './allocation-fields.tsx';
import { AttestationFields } from './attestation-fields.tsx';
import { DeleteEnrollmentButton } from './delete-enrollment-button.tsx';
import { EditorNotices } from './editor-notices.tsx';
import { InitialTwinField } from './initial-twin-field.tsx';

interface EditorState {
  /** The enrollment the edits are based on (its etag goes with Save); none when creating. */
  base: Enrollment | undefined;
  form: EnrollmentForm;
}

const startFrom = (enrollment: Enrollment | undefined): EditorState => ({
  base: enrollment,
  form: enrollment ? formOf(enrollment) : newEnrollmentForm(),
});

/** A save refused because the enrollment changed since it was read (412). */
const isStale = (error: Error | null) => error instanceof ApiError && error.status === 412;

/**
 * Creates an enrollment group or an individual enrollment, or shows and changes one: its
 * attestation, device id, switches, allocation, reprovisioning and initial twin, with
 * Enable/Disable and Delete. Save carries the etag the form is based on; a change made
 * elsewhere meanwhile is refused (412) and offered to reload, never overwritten.
 */
export function EnrollmentEditor({
  kind,
  enrollment,
  dark,
  refusal,
  reload,
}: {
  kind: EnrollmentKind;
  /** The enrollment as DPS holds it now; none when creating one. */
  enrollment?: Enrollment;
  dark: boolean;
  /** Why the operator may not change enrollments (the policy's reason), or nothing. */
  refusal?: string;
  /** Reads the enrollment again; its answer, when one came. */
  reload(): Promise<Enrollment | undefined>;
}) {
  const readOnly = refusal !== undefined;
  const [{ base, form }, setState] = useState(() => startFrom(enrollment));
  const [problem, setProblem] = useState<{ field: FormField; message: string }>();
  const baseForm = useMemo(() => startFrom(base).form, [base]);
  const dirty = isFormDirty(form, baseForm);
  const twinCheck = useMemo(() => checkInitialTwin(form.initialTwin), [form.initialTwin]);

  // A newer enrollment from DPS is taken at once, unless the operator has edits to keep.
  const incoming = enrollment && base && enrollment.etag !== base.etag ? enrollment : undefined;
  useEffect(() => {
    if (incoming && !dirty) setState(startFrom(incoming));
  }, [incoming, dirty]);

  const save = useSaveEnrollment((saved) => {
    if (base) setState(startFrom(saved));
    else navigate(enrollmentPath(kind, saved.id), { replace: true });
  });
  // Enable/Disable saves the enrollment as DPS holds it: edits in the form stay as typed.
  const toggle = useSaveEnrollment((saved) =>
    setState((s) =>
      isFormDirty(s.form, startFrom(s.base).form)
        ? { base: saved, form: { ...s.form, enabled: saved.enabled } }
        : startFrom(saved),
    ),
  );

  const change = (patch: Partial<EnrollmentForm>) => {
    setState((s) => ({ ...s, form: { ...s.form, ...patch } }));
    if (problem && problem.field in patch) setProblem(undefined);
  };
  const submit = () => {
    if (readOnly || save.isPending || !twinCheck.ok) return;
    const result = enrollmentInput(kind, form, base);
    if (!result.ok) return setProblem(result);
    setProblem(undefined);
    save.mutate(result.input);
  };
  const takeLatest = async () => {
    const latest = await reload();
    if (latest) setState(startFrom(latest));
    save.reset();
    toggle.reset();
  };

  const guard = (button: ReactElement) =>
    readOnly ? (
      <Tooltip content={refusal} relationship="description">
        {button}
      </Tooltip>
    ) : (
      button
    );
  const stale = base !== undefined && (isStale(save.error) || isStale(toggle.error));
  const title = base ? `${KIND[kind].title} ${base.id}` : `New ${KIND[kind].noun}`;
  const fieldProps = {
    kind,
    form,
    editing: base,
    disabled: readOnly,
    problemOf: (field: FormField) => (problem?.field === field ? problem.message : undefined),
    onChange: change,
  };

  return (
    <section className="page" aria-labelledby="enrollment-title" data-testid="enrollment">
      <div className="action-row">
        <h1 className="page-title" id="enrollment-title" data-testid="page-title">
          {title}
        </h1>
        {base && (
          <Badge
            appearance={base.enabled ? 'tint' : 'outline'}
            color={base.enabled ? 'success' : 'warning'}
            data-testid="enrollment-status"
          >
            {base.enabled ? 'Enabled' : 'Disabled'}
          </Badge>
        )}
        {base?.iotEdge && <Badge appearance="outline">IoT Edge</Badge>}
        <span className="spacer" />
        {base &&
          guard(
            <Button
              disabled={readOnly || toggle.isPending}
              onClick={() => toggle.mutate(toggledInput(base))}
            >
              {toggle.isPending ? <Spinner size="tiny" /> : base.enabled ? 'Disable' : 'Enable'}
            </Button>,
          )}
        {base && <DeleteEnrollmentButton enrollment={base} refusal={refusal} />}
      </div>
      {base && (
        <Text size={200} className="muted">
          {[
            base.createdAt && `Created ${relativeTime(base.createdAt)}`,
            base.updatedAt && `changed ${relativeTime(base.updatedAt)}`,
            base.iotHubs.length > 0 && `linked hubs: ${base.iotHubs.join(', ')}`,
          ]
            .filter(Boolean)
            .join(' · ')}
        </Text>
      )}
      <EditorNotices
        noun={KIND[kind].noun}
        refusal={refusal}
        incoming={incoming !== undefined && dirty}
        onTakeIncoming={() => incoming && setState(startFrom(incoming))}
        stale={stale}
        onReload={() => void takeLatest()}
        error={stale ? null : (save.error ?? toggle.error)}
      />

      <form
        className="enrollment-form form-grid"
        data-testid="enrollment-form"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
        onKeyDown={(event) => {
          if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
            event.preventDefault();
            submit();
          }
        }}
      >
        {!base && (
          <Field
            label={kind === 'group' ? 'Group ID' : 'Registration ID'}
            required
            hint="Up to 128 letters, digits, '-', '.', '_' or ':'; DPS keeps ids in lower case."
            {...(problem?.field === 'id'
              ? { validationMessage: problem.message, validationState: 'error' as const }
              : {})}
          >
            <Input
              value={form.id}
              disabled={readOnly}
              autoComplete="off"
              onChange={(_e, d) => change({ id: d.value })}
            />
          </Field>
        )}
        <AttestationFields {...fieldProps} />
        {kind === 'individual' && (
          <Field
            label="Device ID"
            hint="The device’s id in the hub; empty: the registration id."
            {...(problem?.field === 'deviceId'
              ? { validationMessage: problem.message, validationState: 'error' as const }
              : {})}
          >
            <Input
              value={form.deviceId}
              disabled={readOnly}
              autoComplete="off"
              onChange={(_e, d) => change({ deviceId: d.value })}
            />
          </Field>
        )}
        <div className="form-row">
          <Switch
            label="Enabled"
            checked={form.enabled}
            disabled={readOnly}
            onChange={(_e, d) => change({ enabled: d.checked })}
          />
          <Switch
            label="IoT Edge device"
            checked={form.iotEdge}
            disabled={readOnly}
            onChange={(_e, d) => change({ iotEdge: d.checked })}
          />
        </div>
        <AllocationFields {...fieldProps} />
        <InitialTwinField
          text={form.initialTwin}
          check={twinCheck}
          dark={dark}
          readOnly={readOnly}
          onChange={(text) => change({ initialTwin: text })}
          onSave={submit}
        />
        {problem && problem.field !== 'id' && problem.field !== 'deviceId' && (
          <MessageBar intent="error" data-testid="enrollment-problem">
            <MessageBarBody>{problem.message}</MessageBarBody>
          </MessageBar>
        )}
        <div className="action-row">
          <Tooltip content={refusal ?? 'Save (Ctrl+S / ⌘S)'} relationship="description">
            <Button
              type="submit"
              appearance="primary"
              disabled={
                readOnly || save.isPending || !twinCheck.ok || (base !== undefined && !dirty)
              }
            >
              {save.isPending ? <Spinner size="tiny" label="Saving…" /> : 'Save'}
            </Button>
          </Tooltip>
          {base && (
            <Button disabled={!dirty} onClick={() => setState(startFrom(base))}>
              Discard changes
            </Button>
          )}
          {!base && <Button onClick={() => navigate('/provisioning')}>Cancel</Button>}
          {dirty && base && <Badge color="warning">Unsaved changes</Badge>}
        </div>
      </form>
    </section>
  );
}
