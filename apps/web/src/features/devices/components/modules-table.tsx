import {
  Badge,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import { relativeTime } from '../../../lib/format.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useModules } from '../api/get-modules.ts';

/** A device's module identities, each a link to its module twin. */
export function ModulesTable({ deviceId }: { deviceId: string }) {
  const modules = useModules(deviceId);
  if (modules.isPending) return <Spinner size="tiny" label="Loading modules…" />;
  if (modules.isError) {
    return (
      <MessageBar intent="error">
        <MessageBarBody>{modules.error.message}</MessageBarBody>
      </MessageBar>
    );
  }
  if (modules.data.items.length === 0)
    return <Text className="muted">This device has no module identities.</Text>;
  return (
    <table className="modules-table" aria-label="Modules" data-testid="modules-table">
      <thead>
        <tr>
          <th>Module</th>
          <th>Connection</th>
          <th>Last activity</th>
          <th>Managed by</th>
        </tr>
      </thead>
      <tbody>
        {modules.data.items.map((module) => (
          <tr key={module.moduleId}>
            <td>
              <Link to={devicePath(deviceId, module.moduleId)}>{module.moduleId}</Link>
              {module.reserved && (
                <Tooltip
                  content="An IoT Edge system module; IoT Edge manages it, so it is read-only here."
                  relationship="description"
                >
                  <Badge size="small" appearance="outline">
                    IoT Edge
                  </Badge>
                </Tooltip>
              )}
            </td>
            <td>{module.connectionState}</td>
            <td title={module.lastActivityTime}>{relativeTime(module.lastActivityTime)}</td>
            <td>{module.managedBy ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
