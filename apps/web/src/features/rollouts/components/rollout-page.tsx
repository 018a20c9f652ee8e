import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  ProgressBar,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { RolloutAction } from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { relativeTime } from '../../../lib/format.ts';
import { useRollout, useRolloutAction } from '../api/rollouts.ts';
import { describePlan, WRITE_MODE } from '../plan-text.ts';
import { actionsFor, progressOf, STATUS } from '../status.ts';
import { RolloutTargets } from './rollout-targets.tsx';
import { RolloutWaves } from './rollout-waves.tsx';

const INTENT = {
  stopped: 'error',
  completed: 'success',
  awaiting_approval: 'warning',
  paused: 'warning',
} as const;

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
          {r.approvedBy ? ` · approved by ${r.approvedBy.name}` : ''}.{' '}
          {describePlan(r.plan, r.change.method !== undefined)} {WRITE_MODE[r.writeMode]}
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
      <RolloutWaves rollout={r} />
      <RolloutTargets id={id} />
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
