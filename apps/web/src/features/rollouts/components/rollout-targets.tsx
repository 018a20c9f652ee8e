import {
  Button,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useRolloutTargets } from '../api/rollouts.ts';
import { TARGET_STATES } from '../status.ts';

/** A rollout's twins, a page at a time, narrowed to one state: each one's wave, state and why. */
export function RolloutTargets({ id }: { id: string }) {
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
