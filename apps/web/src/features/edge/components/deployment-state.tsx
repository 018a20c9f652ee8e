import { Badge, MessageBar, MessageBarBody, Text } from '@fluentui/react-components';
import type { EdgeOverview } from '@twinscope/contract';
import { relativeTime } from '../../../lib/format.ts';
import { deploymentIntent } from '../edge-state.ts';

/**
 * Whether the Edge runtime is connected, the deployment version the agent is at against
 * the one wanted, and the deployment's state in one line, coloured by how it is going.
 */
export function DeploymentState({ overview }: { overview: EdgeOverview }) {
  const { deployment, runtime } = overview;
  return (
    <>
      <div className="row-actions">
        <Badge color={runtime.connected ? 'success' : 'subtle'} data-testid="edge-runtime-state">
          {runtime.connected ? 'Runtime connected' : 'Runtime offline'}
        </Badge>
        {runtime.version && <Text className="muted">agent {runtime.version}</Text>}
        {runtime.lastActivityTime && (
          <Text className="muted" title={runtime.lastActivityTime}>
            last seen {relativeTime(runtime.lastActivityTime)}
          </Text>
        )}
        <Text className="muted">
          deployment version {deployment.desiredVersion}
          {deployment.reportedVersion !== undefined && `, agent at ${deployment.reportedVersion}`}
        </Text>
      </div>
      <MessageBar intent={deploymentIntent(overview)} data-testid="edge-deployment-summary">
        <MessageBarBody>{deployment.summary}</MessageBarBody>
      </MessageBar>
    </>
  );
}
