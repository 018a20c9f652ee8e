import {
  Button,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { waveSizes, type DryRunRequest } from '@twinscope/contract';
import { useState } from 'react';
import { navigate } from '../../../lib/router.tsx';
import { useStartRollout } from '../api/rollouts.ts';
import { DEFAULT_PLAN, planFromForm, type PlanForm } from '../plan-form.ts';
import { APPROVER } from '../plan-text.ts';

/** The planned waves in words: "1, 2, 4 and 5 (4 waves)". */
function describeWaves(sizes: number[]): string {
  const words = sizes.map((n) => n.toLocaleString());
  const shown = sizes.length > 6 ? [...words.slice(0, 5), '…', words.at(-1)] : words;
  return `${shown.join(', ')} (${sizes.length} wave${sizes.length === 1 ? '' : 's'})`;
}

/**
 * Rolls a previewed change out in guarded waves: a canary, then waves of growing size, each
 * checked against a success condition before the next; past the failure threshold it stops
 * by itself; an Admin may have to approve after the canary.
 */
export function RolloutForm({ request, targets }: { request: DryRunRequest; targets: number }) {
  const { method } = request.change;
  const keys = [
    ...Object.keys(request.change.tags ?? {}).map((k) => `tags.${k}`),
    ...Object.keys(request.change.desired ?? {}),
  ];
  const [name, setName] = useState(
    (method ? `Call ${method.methodName}` : `Set ${keys.slice(0, 3).join(', ')}`).slice(0, 120),
  );
  const how = method
    ? request.moduleId
      ? 'Each module is called on its own (IoT Hub jobs do not reach modules); a call whose outcome was lost is not made again.'
      : "Each wave's devices are called by one IoT Hub job (the same call for every device, no etag), and each device's outcome is read from the job."
    : 'Each twin is written on its own with its etag, so a twin changed meanwhile is read again rather than overwritten, and its old values are kept for a rollback. (One IoT Hub job per wave cannot carry an etag per twin, so Twinscope does not use jobs for a change like this.)';
  const [form, setForm] = useState<PlanForm>(
    request.change.desired ? DEFAULT_PLAN : { ...DEFAULT_PLAN, success: 'written' },
  );
  const start = useStartRollout((id) => navigate(`/rollouts/${id}`));
  const set = (patch: Partial<PlanForm>) => setForm((previous) => ({ ...previous, ...patch }));
  const parsed = planFromForm(form);
  return (
    <form
      className="method-panel"
      aria-label="Roll out this change"
      data-testid="rollout-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (!parsed.ok) return;
        start.mutate({ name: name.trim(), ...request, plan: parsed.plan });
      }}
    >
      <Text weight="semibold">Roll out this change</Text>
      <Field label="Name" required>
        <Input value={name} onChange={(_e, d) => setName(d.value)} maxLength={120} />
      </Field>
      <div className="action-row">
        <Field label="Canary">
          <Input value={form.canary} onChange={(_e, d) => set({ canary: d.value })} />
        </Field>
        <Field label="Canary is">
          <Select
            value={form.canaryKind}
            onChange={(_e, d) => set({ canaryKind: d.value as PlanForm['canaryKind'] })}
          >
            <option value="count">a number of twins</option>
            <option value="percent">a share of the targets (%)</option>
          </Select>
        </Field>
        <Field label="Each wave grows by" hint="times the one before">
          <Input value={form.growth} onChange={(_e, d) => set({ growth: d.value })} />
        </Field>
        <Field label="At most" hint="waves (the last takes the rest)">
          <Input value={form.maxWaves} onChange={(_e, d) => set({ maxWaves: d.value })} />
        </Field>
      </div>
      <div className="action-row">
        <Field label="A twin succeeds when">
          <Select
            value={form.success}
            onChange={(_e, d) => set({ success: d.value as PlanForm['success'] })}
          >
            <option value="written">{method ? 'the method answers 2xx' : 'the write lands'}</option>
            <option value="mirrors" disabled={!request.change.desired}>
              its reported properties mirror the desired change
            </option>
            <option value="query">it meets a query</option>
          </Select>
        </Field>
        {form.success !== 'written' && (
          <Field label="Time limit (s)">
            <Input
              value={form.timeoutSeconds}
              onChange={(_e, d) => set({ timeoutSeconds: d.value })}
            />
          </Field>
        )}
        <Field label="Stop when more than" hint="% of a wave's twins fail">
          <Input
            value={form.failureThreshold}
            onChange={(_e, d) => set({ failureThreshold: d.value })}
          />
        </Field>
      </div>
      {form.success === 'query' && (
        <Field
          label="Condition"
          hint="A WHERE condition on the twin, usually on reported properties."
        >
          <Input
            className="mono"
            value={form.where}
            onChange={(_e, d) => set({ where: d.value })}
            placeholder="properties.reported.firmware.version = '2.1'"
          />
        </Field>
      )}
      <Checkbox
        label={`An ${APPROVER} approves the waves after the canary`}
        checked={form.approval}
        onChange={(_e, d) => set({ approval: d.checked === true })}
      />
      <Text className="muted" data-testid="wave-plan">
        {parsed.ok
          ? `Waves over the ${targets.toLocaleString()} targets found now: ${describeWaves(waveSizes(targets, parsed.plan))}. ${how}${method ? ' A call cannot be undone: this rollout has no rollback.' : ''}`
          : parsed.error}
      </Text>
      {start.error && (
        <MessageBar intent="error" data-testid="rollout-start-error">
          <MessageBarBody>{start.error.message}</MessageBarBody>
        </MessageBar>
      )}
      <div className="action-row">
        <Button
          type="submit"
          appearance="primary"
          disabled={!parsed.ok || name.trim() === '' || start.isPending}
        >
          Start rollout
        </Button>
        {start.isPending && <Spinner size="tiny" label="Starting…" />}
      </div>
    </form>
  );
}
