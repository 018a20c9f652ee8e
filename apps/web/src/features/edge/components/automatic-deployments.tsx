import { Text } from '@fluentui/react-components';
import type { EdgeOverview } from '@twinscope/contract';
import { Link } from '../../../lib/router.tsx';

/** The automatic deployments that target this device, and which of them is applied here. */
export function AutomaticDeployments({
  deployments,
}: {
  deployments: EdgeOverview['deployments'];
}) {
  if (deployments.length === 0)
    return <Text className="muted">No automatic deployment targets this device.</Text>;
  return (
    <table
      className="modules-table"
      aria-label="Automatic deployments"
      data-testid="edge-deployments"
    >
      <thead>
        <tr>
          <th>Deployment</th>
          <th>Priority</th>
          <th>Kind</th>
          <th>Status here</th>
          <th>Target condition</th>
        </tr>
      </thead>
      <tbody>
        {deployments.map((d) => (
          <tr key={d.id}>
            <td>
              <Link to="/configurations">{d.id}</Link>
            </td>
            <td>{d.priority}</td>
            <td>{d.layered ? 'layered' : 'whole'}</td>
            <td>{d.status === 'Applied' ? 'applied' : 'targeted, outranked'}</td>
            <td>
              <code>{d.targetCondition}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
