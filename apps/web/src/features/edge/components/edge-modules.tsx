import { MessageBar, MessageBarBody } from '@fluentui/react-components';
import type { EdgeModule } from '@twinscope/contract';
import type { useRestartModule } from '../api/restart-module.ts';
import { ModuleRow } from './module-row.tsx';

/**
 * The Edge device's modules, deployed and reported, one row each; a restart through the
 * Edge agent that fails says why above the table.
 */
export function EdgeModules({
  modules,
  restart,
  logsRefusal,
  restartRefusal,
  onLogs,
}: {
  modules: EdgeModule[];
  /** The panel's restart, kept there so a refetch that fails does not forget it. */
  restart: ReturnType<typeof useRestartModule>;
  logsRefusal: string | undefined;
  restartRefusal: string | undefined;
  /** The operator asked for a module's logs. */
  onLogs(module: string): void;
}) {
  return (
    <>
      {restart.error && (
        <MessageBar intent="error" data-testid="edge-restart-error">
          <MessageBarBody>{restart.error.message}</MessageBarBody>
        </MessageBar>
      )}
      <table className="modules-table" aria-label="IoT Edge modules" data-testid="edge-modules">
        <thead>
          <tr>
            <th>Module</th>
            <th>State</th>
            <th>Image</th>
            <th>Restarts</th>
            <th>Last exit</th>
            <th>Why</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {modules.map((module) => (
            <ModuleRow
              key={module.name}
              module={module}
              logsRefusal={logsRefusal}
              restartRefusal={restartRefusal}
              onLogs={() => onLogs(module.name)}
              onRestart={() => restart.mutate(module.name)}
              restarting={restart.isPending && restart.variables === module.name}
            />
          ))}
        </tbody>
      </table>
    </>
  );
}
