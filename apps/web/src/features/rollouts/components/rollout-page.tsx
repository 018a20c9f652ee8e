import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  ProgressBar,
  Select,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { Rollout, RolloutAction } from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { relativeTime } from '../../../lib/format.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useRollout, useRolloutAction, useRolloutTargets } from '../api/rollouts.ts';
import { actionsFor, progressOf, STATUS, TARGET_STATES } from '../status.ts';

const INTENT = {
  stopped: 'error',
  completed: 'success',
  awaiting_approval: 'warning',
  paused: 'warning',
} as const;

const WRITE_MODE: Record<Rollout['writeMode'], string> = {
  'per-twin':
    'Each twin is written on its own with its etag; its old values are kept for a rollback.',
  job: "Each wave's devices are called by one IoT Hub job (the same call for every device, no etag); a call cannot be undone.",
  'per-call':
    'Each module is called on its own (IoT Hub jobs do not reach modules); a call cannot be undone.',
};

function describePlan(rollout: Rollout): string {
  const { plan } = rollout;
  const canary =
    plan.canary.kind === 'count'
      ? `${plan.canary.value} twin(s)`
      : `${plan.canary.value} % of the targets`;
  const success =
    plan.success.kind === 'written'
      ? rollout.change.method
        ? 'the method answers 2xx'
        : 'the write lands'
      : plan.success.kind === 'mirrors'
        ? `reported properties mirror the change within ${plan.success.timeoutSeconds} s`
        : `"${plan.success.where}" holds within ${plan.success.timeoutSeconds} s`;
  return `A canary of ${canary}, then waves ×${plan.growth} (at most ${plan.maxWaves}). A twin succeeds when ${success}. Stops past ${plan.failureThreshold} % failed in a wave.${plan.approval ? ' An Admin approves after the canary.' : ''}`;
}

function Targets({ id }: { id: string }) {
  const [state, setState] = useState('');
  const targets = useRolloutTargets(id, state);
  const items = targets.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <div className="method-panel" data-testid="rollout-targets">
      <div className="action-row">
        <Text weight="semibold">Targets</Text>
        <Select aria-label="Targets in state" value={state} onChange={(_e, d) => setState(d.value)}>
          <option value="">All</option>
          {TARGET_STATES.map(({ state: value, label }) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Select>
      </div>
      {targets.isPending ? (
        <Spinner size="tiny" label="Loading targets…" />
      ) : targets.error ? (
        <MessageBar intent="error">
          <MessageBarBody>{targets.error.message}</MessageBarBody>
        </MessageBar>
      ) : items.length === 0 ? (
        <p className="muted">No target in this state.</p>
      ) : (
        <table className="invocations">
          <thead>
            <tr>
              <th>Twin</th>
              <th>Wave</th>
              <th>State</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {items.map((target) => (
              <tr key={`${target.deviceId}/${target.moduleId ?? ''}`} data-testid="target-row">
                <td>
                  <Link to={devicePath(target.deviceId, target.moduleId)}>
                    {target.moduleId ? `${target.deviceId}/${target.moduleId}` : target.deviceId}
                  </Link>
                </td>
                <td>{target.wave === 0 ? 'Canary' : target.wave + 1}</td>
                <td>
                  {TARGET_STATES.find((s) => s.state === target.state)?.label ?? target.state}
                </td>
                <td>{target.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {targets.hasNextPage && (
        <Button onClick={() => void targets.fetchNextPage()} disabled={targets.isFetchingNextPage}>
          More targets
        </Button>
      )}
    </div>
  );
}

/**
 * One rollout: where it is and why, its waves with their outcomes, its targets by state, and
 * what an Operator (or an Admin, to approve) may do now. Live as it moves, on every replica.
 */
export function RolloutPage({
  id,
  refusalOf,
}: {
  id: string;
  /** Why the operator may not take an action (the policy's reason), or nothing when they may. */
  refusalOf: (action: RolloutAction) => string | undefined;
}) {
  const rollout = useRollout(id);
  const [confirming, setConfirming] = useState<'cancel' | 'rollback'>();
  const act = useRolloutAction(id, () => setConfirming(undefined));
  if (rollout.isPending) return <Spinner label="Loading the rollout…" />;
  if (rollout.error)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{rollout.error.message}</MessageBarBody>
      </MessageBar>
    );
  const r = rollout.data;
  const { done, total } = progressOf(r);
  const can = actionsFor(r.status);
  // A direct method call cannot be undone.
  if (r.change.method) can.rollback = false;
  const button = (action: RolloutAction, label: string, allowed: boolean) => {
    const refusal = refusalOf(action);
    const enabled = allowed && refusal === undefined;
    const element = (
      <Button
        disabled={!enabled || act.isPending}
        appearance={action === 'approve' || action === 'resume' ? 'primary' : 'secondary'}
        onClick={() =>
          action === 'cancel' || action === 'rollback' ? setConfirming(action) : act.mutate(action)
        }
      >
        {label}
      </Button>
    );
    return allowed && refusal !== undefined ? (
      <Tooltip key={action} content={refusal} relationship="description">
        {element}
      </Tooltip>
    ) : (
      <span key={action}>{element}</span>
    );
  };
  return (
    <section className="page" aria-label={`Rollout ${r.name}`} data-testid="rollout">
      <div className="action-row">
        <Text size={500} weight="semibold">
          {r.name}
        </Text>
        <Badge appearance="tint" color={STATUS[r.status].color} data-testid="rollout-status">
          {STATUS[r.status].label}
        </Badge>
        <span className="spacer" />
        {button('approve', 'Approve next waves', can.approve)}
        {button('pause', 'Pause', can.pause)}
        {button('resume', 'Resume', can.resume)}
        {button('cancel', 'Cancel', can.cancel)}
        {button('rollback', 'Roll back', can.rollback)}
      </div>
      {r.message && (
        <MessageBar
          intent={INTENT[r.status as keyof typeof INTENT] ?? 'info'}
          data-testid="rollout-message"
        >
          <MessageBarBody>{r.message}</MessageBarBody>
        </MessageBar>
      )}
      {act.error && !confirming && (
        <MessageBar intent="error" data-testid="rollout-action-error">
          <MessageBarBody>{act.error.message}</MessageBarBody>
        </MessageBar>
      )}
      <div className="method-panel">
        <Text data-testid="rollout-progress">
          {done.toLocaleString()} of {total.toLocaleString()} twins done
          {r.writesPerSecond !== null ? ` · ${r.writesPerSecond} writes a second` : ''}
        </Text>
        <ProgressBar value={total === 0 ? 0 : done / total} />
        <Text className="muted">
          Started by {r.createdBy.name} {relativeTime(r.createdAt)}
          {r.approvedBy ? ` · approved by ${r.approvedBy.name}` : ''}. {describePlan(r)}{' '}
          {WRITE_MODE[r.writeMode]}
        </Text>
        {r.jobs.length > 0 && (
          <Text className="muted" data-testid="rollout-jobs">
            IoT Hub jobs:{' '}
            {r.jobs
              .map(({ wave, jobId }) => `${jobId} (${wave === 0 ? 'canary' : `wave ${wave + 1}`})`)
              .join(', ')}
          </Text>
        )}
        <pre className="history-change" data-testid="rollout-change">
          {JSON.stringify(
            { ...(r.moduleId ? { module: r.moduleId } : {}), filter: r.filter, change: r.change },
            null,
            2,
          )}
        </pre>
      </div>
      {r.waves.length > 0 && (
        <table className="invocations" data-testid="rollout-waves">
          <thead>
            <tr>
              <th>Wave</th>
              <th>Twins</th>
              {TARGET_STATES.map(({ state, label }) => (
                <th key={state}>{label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {r.waves.map((size, wave) => (
              <tr
                key={wave}
                data-testid="wave-row"
                className={wave === r.wave && r.status === 'running' ? 'selected' : undefined}
              >
                <td>{wave === 0 ? 'Canary' : wave + 1}</td>
                <td>{size.toLocaleString()}</td>
                {TARGET_STATES.map(({ state }) => (
                  <td key={state} data-state={state}>
                    {r.waveCounts[wave]?.[state] ?? ''}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Targets id={id} />
      <ConfirmDialog
        open={confirming !== undefined}
        title={confirming === 'cancel' ? `Cancel ${r.name}?` : `Roll back ${r.name}?`}
        confirmLabel={confirming === 'cancel' ? 'Cancel the rollout' : 'Roll back'}
        pending={act.isPending}
        error={act.error}
        onConfirm={() => confirming && act.mutate(confirming)}
        onCancel={() => setConfirming(undefined)}
        testId="confirm-rollout"
      >
        {confirming === 'cancel'
          ? 'Nothing more is written. Twins already written keep the change until you roll back.'
          : 'Each twin this rollout wrote gets its old values back, written with its current etag. A twin someone changed since is left as it is and listed.'}
      </ConfirmDialog>
    </section>
  );
}
