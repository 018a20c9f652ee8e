import { PnpPanel } from '../../features/pnp/components/pnp-panel.tsx';
import { useTelemetryFields } from '../../features/pnp/api/get-model.ts';
import { Text } from '@fluentui/react-components';
import { useDevice } from '../../features/devices/api/get-device.ts';
import { DeviceIdentityCard } from '../../features/devices/components/identity-cards.tsx';
import { ModulesTable } from '../../features/devices/components/modules-table.tsx';
import { useWatchTwins } from '../../features/live/use-live.ts';
import { TelemetryViewer } from '../../features/live/components/telemetry-viewer.tsx';
import { DeviceTimeline } from '../../features/live/components/device-timeline.tsx';
import { useModules } from '../../features/devices/api/get-modules.ts';
import { TwinEditor } from '../../features/twin-editor/components/twin-editor.tsx';
import { SyncPanel } from '../../features/twin-editor/components/sync-panel.tsx';
import { LoadState } from './load-state.tsx';
import { HistoryPanel } from '../../features/audit/components/history-panel.tsx';
import { VersionsPanel } from '../../features/twin-history/components/versions-panel.tsx';
import { versionOf } from '../../features/twin-history/version-model.ts';
import { usePermissions } from '../use-permissions.ts';
import { AddModuleDialog } from '../../features/module-admin/components/add-module-dialog.tsx';
import { DeviceActions } from '../../features/device-admin/components/device-actions.tsx';
import { MethodPanel } from '../../features/methods/components/method-panel.tsx';
import { MessagePanel } from '../../features/messages/components/message-panel.tsx';
import { EdgePanel } from '../../features/edge/components/edge-panel.tsx';
import { DeviceFiles } from '../../features/files/components/device-files.tsx';
import { DeviceProvisioning } from '../../features/provisioning/components/device-provisioning.tsx';
import { useState } from 'react';

export function DeviceRoute({
  deviceId,
  dark,
  search,
}: {
  deviceId: string;
  dark: boolean;
  search: URLSearchParams;
}) {
  const detail = useDevice(deviceId);
  const permissions = usePermissions();
  const modules = useModules(deviceId);
  const [deleted, setDeleted] = useState(false);
  useWatchTwins([{ deviceId }]);
  const fields = useTelemetryFields({ deviceId }, detail.data?.twin.modelId || undefined);
  return (
    <LoadState
      pending={detail.isPending}
      error={detail.error}
      failureReason={detail.failureReason}
      label={deviceId}
    >
      {() => (
        <div className="page">
          <h1 className="page-title" data-testid="page-title">
            {deviceId}
          </h1>
          <DeviceIdentityCard device={detail.data!.device} twin={detail.data!.twin} />
          <DeviceActions
            key={detail.data!.device.etag}
            device={detail.data!.device}
            refusalOf={(action) => permissions.why(action, 'device')}
            onDeleted={() => setDeleted(true)}
          />
          {!deleted && (
            <>
              <DeviceProvisioning deviceId={deviceId} />
              <PnpPanel
                target={{ deviceId }}
                twin={detail.data!.twin}
                writeRefusal={permissions.why('twin.write', 'device')}
                invokeRefusal={permissions.why('method.invoke', 'device')}
              />
              {detail.data!.device.iotEdge && (
                <>
                  <h2 id="edge">IoT Edge</h2>
                  <EdgePanel
                    deviceId={deviceId}
                    dark={dark}
                    refusalOf={(action) => permissions.why(action, 'device')}
                  />
                </>
              )}
              <div className="section-head">
                <h2>Modules</h2>
                <AddModuleDialog
                  refusal={permissions.why('identity.create', 'module')}
                  deviceId={deviceId}
                />
              </div>
              <ModulesTable deviceId={deviceId} />
              <h2>Device twin</h2>
              <Text size={200} className="muted">
                Edit tags and desired properties. Only changed keys are sent, with the twin&apos;s
                etag.
              </Text>
              <TwinEditor
                key={deviceId}
                target={{ deviceId }}
                twin={detail.data!.twin}
                dark={dark}
                refusal={permissions.why('twin.write', 'device')}
              />
              <SyncPanel twin={detail.data!.twin} />
              <h2 id="timeline">Timeline</h2>
              <Text size={200} className="muted">
                Telemetry, twin changes, connections and what was done from Twinscope, newest first,
                live.
              </Text>
              <DeviceTimeline
                deviceId={deviceId}
                moduleIds={(modules.data?.items ?? []).map((m) => m.moduleId)}
              />
              <h2>Telemetry</h2>
              <TelemetryViewer target={{ deviceId }} {...(fields ? { fields } : {})} />
              <h2>Direct methods</h2>
              <MethodPanel
                target={{ deviceId }}
                dark={dark}
                refusal={permissions.why('method.invoke', 'device')}
              />
              <h2>Cloud-to-device messages</h2>
              <MessagePanel
                deviceId={deviceId}
                refusalOf={(action) => permissions.why(action, 'device')}
              />
              <h2 id="files">Files</h2>
              <Text size={200} className="muted">
                What the device uploaded through the hub&apos;s file upload, from its storage
                account.
              </Text>
              <DeviceFiles
                deviceId={deviceId}
                refusal={permissions.why('file.download', 'device')}
              />
              <h2 id="versions">Versions</h2>
              <Text size={200} className="muted">
                Every version Twinscope saw, whoever made it: compare two, or restore one.
              </Text>
              <VersionsPanel
                target={{ deviceId }}
                twin={detail.data!.twin}
                dark={dark}
                canEdit={permissions.may('twin.write', 'device')}
                focus={versionOf(search)}
              />
              <h2>History</h2>
              <HistoryPanel
                target={{ deviceId }}
                twin={detail.data!.twin}
                refusal={permissions.why('twin.write', 'device')}
              />
            </>
          )}
        </div>
      )}
    </LoadState>
  );
}
