import { useMemo, useState } from 'react';
import { AddDeviceDialog } from '../../features/device-admin/components/add-device-dialog.tsx';
import { BulkActions } from '../../features/device-admin/components/bulk-actions.tsx';
import { DeviceList } from '../../features/devices/components/device-list.tsx';
import { viewFromSearch } from '../../features/devices/filter-model.ts';
import { useWatchTwins } from '../../features/live/use-live.ts';
import { usePermissions } from '../use-permissions.ts';

export function DevicesRoute({ search }: { search: URLSearchParams }) {
  const searchText = search.toString();
  const view = useMemo(() => viewFromSearch(new URLSearchParams(searchText)), [searchText]);
  const [visible, setVisible] = useState<string[]>([]);
  const [selected, setSelected] = useState<Map<string, string>>(new Map());
  const permissions = usePermissions();
  useWatchTwins(visible.map((deviceId) => ({ deviceId })));
  return (
    <DeviceList
      view={view}
      onVisible={setVisible}
      {...(permissions.manageDevices ? { selection: { selected, onChange: setSelected } } : {})}
      actions={
        <div className="list-actions">
          <AddDeviceDialog allowed={permissions.manageDevices} />
          <BulkActions
            selected={[...selected].map(([deviceId, etag]) => ({ deviceId, etag }))}
            onDone={() => setSelected(new Map())}
          />
        </div>
      }
    />
  );
}
