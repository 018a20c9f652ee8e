import { useMemo, useState } from 'react';
import { AddDeviceDialog } from '../../features/device-admin/components/add-device-dialog.tsx';
import { BulkActions } from '../../features/device-admin/components/bulk-actions.tsx';
import { DeviceList } from '../../features/devices/components/device-list.tsx';
import { viewFromSearch } from '../../features/devices/filter-model.ts';
import { useWatchTwins } from '../../features/live/use-live.ts';
import { TelemetryViewer } from '../../features/live/components/telemetry-viewer.tsx';
import { ToggleButton } from '@fluentui/react-components';
import { usePermissions } from '../use-permissions.ts';

export function DevicesRoute({ search }: { search: URLSearchParams }) {
  const searchText = search.toString();
  const view = useMemo(() => viewFromSearch(new URLSearchParams(searchText)), [searchText]);
  const [visible, setVisible] = useState<string[]>([]);
  const [selected, setSelected] = useState<Map<string, string>>(new Map());
  const permissions = usePermissions();
  const [telemetry, setTelemetry] = useState(false);
  useWatchTwins(visible.map((deviceId) => ({ deviceId })));
  const { prefix, tags, where } = view.filter;
  return (
    <div className="devices-page">
      {telemetry && (
        <section className="list-telemetry" aria-label="Telemetry of the listed devices">
          <TelemetryViewer
            filter={{
              ...(prefix ? { prefix } : {}),
              tags,
              ...(where ? { where } : {}),
            }}
          />
        </section>
      )}
      <DeviceList
        view={view}
        onVisible={setVisible}
        {...(permissions.manageDevices ? { selection: { selected, onChange: setSelected } } : {})}
        actions={
          <div className="list-actions">
            <ToggleButton
              checked={telemetry}
              onClick={() => setTelemetry(!telemetry)}
              title="Live telemetry of every device this filter matches"
            >
              Telemetry
            </ToggleButton>
            <AddDeviceDialog allowed={permissions.manageDevices} />
            <BulkActions
              selected={[...selected].map(([deviceId, etag]) => ({ deviceId, etag }))}
              onDone={() => setSelected(new Map())}
            />
          </div>
        }
      />
    </div>
  );
}
