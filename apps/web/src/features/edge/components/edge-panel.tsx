import { MessageBar, MessageBarBody, Spinner } from '@fluentui/react-components';
import type { PolicyAction } from '@twinscope/contract';
import { useState } from 'react';
import { useEdgeOverview } from '../api/get-edge-overview.ts';
import { useRestartModule } from '../api/restart-module.ts';
import { DeploymentSection } from './deployment-section.tsx';
import { DeploymentState } from './deployment-state.tsx';
import { EdgeHierarchy } from './edge-hierarchy.tsx';
import { EdgeModules } from './edge-modules.tsx';
import { ModuleLogs } from './module-logs.tsx';

/** What the panel does on an IoT Edge device, by the policy's names. */
export type EdgeAction = Extract<PolicyAction, `edge.${string}`>;

/**
 * An IoT Edge device's runtime: each module deployed against what the agent reports, the
 * deployment's state in words, restart and logs, Set modules, the automatic deployments
 * that target it, and the devices above and below it. It reads the overview and keeps what
 * the operator opened (logs, the editor) and a restart under way while the overview refreshes.
 */
export function EdgePanel({
  deviceId,
  dark,
  refusalOf,
}: {
  deviceId: string;
  dark: boolean;
  /** Why the operator may not take an action on this device (the policy's reason), or nothing. */
  refusalOf: (action: EdgeAction) => string | undefined;
}) {
  const overview = useEdgeOverview(deviceId);
  const restart = useRestartModule(deviceId);
  const [logsOf, setLogsOf] = useState<string>();
  const [editing, setEditing] = useState(false);
  if (overview.isPending) return <Spinner size="tiny" label="Reading the Edge agent's report…" />;
  if (overview.isError)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{overview.error.message}</MessageBarBody>
      </MessageBar>
    );
  const data = overview.data;
  return (
    <section className="edge-panel" aria-label="IoT Edge" data-testid="edge-panel">
      <DeploymentState overview={data} />
      <EdgeHierarchy overview={data} />
      <EdgeModules
        modules={data.modules}
        restart={restart}
        logsRefusal={refusalOf('edge.logs')}
        restartRefusal={refusalOf('edge.restart-module')}
        onLogs={setLogsOf}
      />
      {logsOf && (
        <ModuleLogs
          key={logsOf}
          deviceId={deviceId}
          module={logsOf}
          onClose={() => setLogsOf(undefined)}
        />
      )}
      <DeploymentSection
        deviceId={deviceId}
        overview={data}
        dark={dark}
        deployRefusal={refusalOf('edge.set-modules')}
        editing={editing}
        onEditing={setEditing}
      />
    </section>
  );
}
