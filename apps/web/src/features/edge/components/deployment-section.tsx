import { Button, Text, Tooltip } from '@fluentui/react-components';
import type { EdgeOverview } from '@twinscope/contract';
import { AutomaticDeployments } from './automatic-deployments.tsx';
import { SetModules } from './set-modules.tsx';

/**
 * The device's deployment: "Set modules" to edit and send its manifest, a warning when
 * automatic deployments may replace what is set here, and those deployments.
 */
export function DeploymentSection({
  deviceId,
  overview,
  dark,
  deployRefusal,
  editing,
  onEditing,
}: {
  deviceId: string;
  overview: EdgeOverview;
  dark: boolean;
  /** Why the operator may not set modules (the policy's reason), or nothing. */
  deployRefusal: string | undefined;
  /** Whether the manifest editor is open; the panel keeps it across a failed refresh. */
  editing: boolean;
  onEditing(editing: boolean): void;
}) {
  return (
    <>
      <div className="section-head">
        <h3>Deployment</h3>
        {!editing && (
          <Tooltip
            content={deployRefusal ?? 'Edit and send this device’s deployment manifest'}
            relationship="description"
          >
            <Button disabled={deployRefusal !== undefined} onClick={() => onEditing(true)}>
              Set modules
            </Button>
          </Tooltip>
        )}
      </div>
      {overview.deployments.some((d) => d.status === 'Applied') && (
        <Text size={200} className="muted">
          Automatic deployments target this device: modules set here stay until one of them changes,
          or the device stops or starts matching one.
        </Text>
      )}
      {editing && (
        <SetModules
          deviceId={deviceId}
          overview={overview}
          dark={dark}
          onDone={() => onEditing(false)}
        />
      )}
      <AutomaticDeployments deployments={overview.deployments} />
    </>
  );
}
