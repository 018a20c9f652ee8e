import type { Rollout } from '@twinscope/contract';
import { TARGET_STATES } from '../status.ts';

/** A rollout's waves: each one's size and its twins by state, the running wave marked. */
export function RolloutWaves({ rollout }: { rollout: Rollout }) {
  if (rollout.waves.length === 0) return null;
  return (
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
        {rollout.waves.map((size, wave) => (
          <tr
            key={wave}
            data-testid="wave-row"
            className={
              wave === rollout.wave && rollout.status === 'running' ? 'selected' : undefined
            }
          >
            <td>{wave === 0 ? 'Canary' : wave + 1}</td>
            <td>{size.toLocaleString()}</td>
            {TARGET_STATES.map(({ state }) => (
              <td key={state} data-state={state}>
                {rollout.waveCounts[wave]?.[state] ?? ''}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
