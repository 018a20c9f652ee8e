import { PnpPanel } from '../../features/pnp/components/pnp-panel.tsx';
import { useTelemetryFields } from '../../features/pnp/api/get-model.ts';
import { MessageBar, MessageBarBody, Text } from '@fluentui/react-components';
import { targetKindOf } from '@twinscope/contract';
import { useModule } from '../../features/devices/api/get-module.ts';
import { ModuleIdentityCard } from '../../features/devices/components/identity-cards.tsx';
import { useWatchTwins } from '../../features/live/use-live.ts';
import { TelemetryViewer } from '../../features/live/components/telemetry-viewer.tsx';
import { TwinEditor } from '../../features/twin-editor/components/twin-editor.tsx';
import { SyncPanel } from '../../features/twin-editor/components/sync-panel.tsx';
import { LoadState } from './load-state.tsx';
import { HistoryPanel } from '../../features/audit/components/history-panel.tsx';
import { VersionsPanel } from '../../features/twin-history/components/versions-panel.tsx';
import { versionOf } from '../../features/twin-history/version-model.ts';
import { usePermissions } from '../use-permissions.ts';
import { ModuleActions } from '../../features/module-admin/components/module-actions.tsx';
import { MethodPanel } from '../../features/methods/components/method-panel.tsx';
import { useState } from 'react';

export function ModuleRoute({
  deviceId,
  moduleId,
  dark,
  search,
}: {
  deviceId: string;
  moduleId: string;
  dark: boolean;
  search: URLSearchParams;
}) {
  const detail = useModule(deviceId, moduleId);
  const fields = useTelemetryFields({ deviceId, moduleId }, detail.data?.twin.modelId || undefined);
  const permissions = usePermissions();
  const kind = targetKindOf(moduleId);
  const [deleted, setDeleted] = useState(false);
  const revertRefusal = deleted
    ? `${moduleId} was deleted, so its twin no longer changes.`
    : permissions.why('twin.write', kind);
  useWatchTwins([{ deviceId, moduleId }]);
  return (
    <LoadState
      pending={detail.isPending}
      error={detail.error}
      failureReason={detail.failureReason}
      label={moduleId}
    >
      {() => {
        const { module, twin } = detail.data!;
        return (
          <div className="page">
            <h1 className="page-title" data-testid="page-title">
              {moduleId}
            </h1>
            <ModuleIdentityCard module={module} twin={twin} />
            <PnpPanel
              target={{ deviceId, moduleId }}
              twin={twin}
              writeRefusal={permissions.why('twin.write', kind)}
              invokeRefusal={permissions.why('method.invoke', kind)}
            />
            <ModuleActions
              refusalOf={(action) => permissions.why(action, kind)}
              key={module.etag}
              module={module}
              onDeleted={() => setDeleted(true)}
            />
            {deleted ? null : <h2>Module twin</h2>}
            {deleted ? null : kind === 'edge-system-module' ? (
              <>
                <MessageBar intent="info">
                  <MessageBarBody>
                    {moduleId} is an IoT Edge system module, shown read-only.{' '}
                    {permissions.why('twin.write', kind)}
                  </MessageBarBody>
                </MessageBar>
                <pre className="patch-preview">{JSON.stringify(twin.properties, null, 2)}</pre>
              </>
            ) : (
              <>
                <Text size={200} className="muted">
                  Desired properties are pushed to the module; it acknowledges them in its reported
                  properties.
                </Text>
                <TwinEditor
                  key={`${deviceId}/${moduleId}`}
                  target={{ deviceId, moduleId }}
                  twin={twin}
                  dark={dark}
                  refusal={permissions.why('twin.write', kind)}
                />
                <SyncPanel twin={twin} />
              </>
            )}
            {deleted ? null : (
              <>
                <h2>Telemetry</h2>
                <TelemetryViewer target={{ deviceId, moduleId }} {...(fields ? { fields } : {})} />
                <h2>Direct methods</h2>
                <MethodPanel
                  target={{ deviceId, moduleId }}
                  dark={dark}
                  refusal={permissions.why('method.invoke', kind)}
                />
              </>
            )}
            <h2 id="versions">Versions</h2>
            <VersionsPanel
              target={{ deviceId, moduleId }}
              twin={twin}
              dark={dark}
              canEdit={permissions.may('twin.write', kind) && !deleted}
              focus={versionOf(search)}
            />
            <h2>History</h2>
            <HistoryPanel target={{ deviceId, moduleId }} twin={twin} refusal={revertRefusal} />
          </div>
        );
      }}
    </LoadState>
  );
}
