import { Badge, Button, Tooltip } from '@fluentui/react-components';
import type { EdgeModule } from '@twinscope/contract';
import { relativeTime } from '../../../lib/format.ts';
import { moduleWhy, STATE_COLOUR } from '../edge-state.ts';

/**
 * One module of an Edge device: its state against what is deployed, the image it runs, its
 * restarts and last exit, why it is in its state, and its Logs and Restart buttons.
 */
export function ModuleRow({
  module,
  logsRefusal,
  restartRefusal,
  onLogs,
  onRestart,
  restarting,
}: {
  module: EdgeModule;
  logsRefusal: string | undefined;
  restartRefusal: string | undefined;
  onLogs(): void;
  onRestart(): void;
  restarting: boolean;
}) {
  const reported = module.reported;
  const imageDiffers = module.desired && reported?.image && reported.image !== module.desired.image;
  return (
    <tr data-testid={`edge-module-${module.name}`}>
      <td>
        {module.name}
        {module.system && (
          <Badge size="small" appearance="outline">
            system
          </Badge>
        )}
      </td>
      <td>
        <Badge color={STATE_COLOUR[module.state]} data-testid="edge-module-state">
          {module.state}
        </Badge>{' '}
        <span className="muted">
          {reported ? reported.runtimeStatus : 'not reported'}
          {module.desired ? ` (wants ${module.desired.status})` : ' (no longer deployed)'}
        </span>
      </td>
      <td>
        {module.desired?.image ?? reported?.image ?? '—'}
        {imageDiffers && <div className="muted">runs {reported.image}</div>}
      </td>
      <td data-testid="edge-module-restarts">{reported?.restartCount ?? '—'}</td>
      <td>
        {reported?.exitCode !== undefined ? `code ${reported.exitCode}` : '—'}
        {reported?.lastExitTimeUtc && (
          <div className="muted" title={reported.lastExitTimeUtc}>
            {relativeTime(reported.lastExitTimeUtc)}
          </div>
        )}
      </td>
      <td className="edge-description" data-testid="edge-module-description">
        {moduleWhy(module)}
      </td>
      <td>
        <div className="row-actions">
          <Tooltip content={logsRefusal ?? `Read ${module.name}'s logs`} relationship="description">
            <Button size="small" disabled={logsRefusal !== undefined} onClick={onLogs}>
              Logs
            </Button>
          </Tooltip>
          {module.name !== 'edgeAgent' && module.desired && (
            <Tooltip
              content={restartRefusal ?? `Restart ${module.name} through the Edge agent`}
              relationship="description"
            >
              <Button
                size="small"
                disabled={restartRefusal !== undefined || restarting}
                onClick={onRestart}
                aria-label={`Restart ${module.name}`}
              >
                {restarting ? 'Restarting…' : 'Restart'}
              </Button>
            </Tooltip>
          )}
        </div>
      </td>
    </tr>
  );
}
