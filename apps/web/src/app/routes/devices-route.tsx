import { lazy, Suspense, useMemo, useState } from 'react';
import { DeviceList } from '../../features/devices/components/device-list.tsx';
import { searchFromView, viewFromSearch } from '../../features/devices/filter-model.ts';
import { navigate } from '../../lib/router.tsx';
import { useWatchTwins } from '../../features/live/use-live.ts';
import { Button, Spinner, ToggleButton, Tooltip } from '@fluentui/react-components';

// Loaded when an operator first needs them: the list's first paint does not wait for the
// dialogs, the bulk bar or the telemetry viewer.
const AddDeviceDialog = lazy(() =>
  import('../../features/device-admin/components/add-device-dialog.tsx').then((m) => ({
    default: m.AddDeviceDialog,
  })),
);
const BulkActions = lazy(() =>
  import('../../features/device-admin/components/bulk-actions.tsx').then((m) => ({
    default: m.BulkActions,
  })),
);
// The module list and the saved views' menu load when first shown.
const ModuleList = lazy(() =>
  import('../../features/devices/components/module-list.tsx').then((m) => ({
    default: m.ModuleList,
  })),
);
const SavedViews = lazy(() =>
  import('../../features/devices/components/saved-views.tsx').then((m) => ({
    default: m.SavedViews,
  })),
);
const TelemetryViewer = lazy(() =>
  import('../../features/live/components/telemetry-viewer.tsx').then((m) => ({
    default: m.TelemetryViewer,
  })),
);
import { usePermissions } from '../use-permissions.ts';

export function DevicesRoute({ search }: { search: URLSearchParams }) {
  const searchText = search.toString();
  const view = useMemo(() => viewFromSearch(new URLSearchParams(searchText)), [searchText]);
  const [visible, setVisible] = useState<string[]>([]);
  const [selected, setSelected] = useState<Map<string, string>>(new Map());
  const permissions = usePermissions();
  const [telemetry, setTelemetry] = useState(false);
  const [adding, setAdding] = useState(false);
  // Once a row was selected, the bulk bar stays (it reports the outcome after the selection clears).
  const [bulkShown, setBulkShown] = useState(false);
  if (selected.size > 0 && !bulkShown) setBulkShown(true);
  const createRefusal = permissions.why('identity.create', 'device');
  const previewRefusal = permissions.why('rollout.preview');
  const addButton =
    createRefusal === undefined ? (
      <Button onClick={() => setAdding(true)}>New device</Button>
    ) : (
      <Tooltip content={createRefusal} relationship="description">
        <Button disabled>New device</Button>
      </Tooltip>
    );
  useWatchTwins(visible.map((deviceId) => ({ deviceId })));
  const { prefix, tags, where } = view.filter;
  const savedViews = (
    <Suspense fallback={<Spinner size="tiny" />}>
      <SavedViews view={view} shareRefusal={permissions.why('view.share')} />
    </Suspense>
  );
  if (view.source === 'modules')
    return (
      <div className="devices-page">
        <Suspense fallback={<Spinner label="Loading modules…" />}>
          <ModuleList view={view} actions={<div className="list-actions">{savedViews}</div>} />
        </Suspense>
      </div>
    );
  return (
    <div className="devices-page">
      {telemetry && (
        <section className="list-telemetry" aria-label="Telemetry of the listed devices">
          <Suspense fallback={<Spinner size="tiny" label="Loading the telemetry viewer…" />}>
            <TelemetryViewer
              filter={{
                ...(prefix ? { prefix } : {}),
                tags,
                ...(where ? { where } : {}),
              }}
            />
          </Suspense>
        </section>
      )}
      <DeviceList
        view={view}
        onVisible={setVisible}
        {...(permissions.may('identity.bulk')
          ? { selection: { selected, onChange: setSelected } }
          : {})}
        actions={
          <div className="list-actions">
            {savedViews}
            <ToggleButton
              checked={telemetry}
              onClick={() => setTelemetry(!telemetry)}
              title="Live telemetry of every device this filter matches"
            >
              Telemetry
            </ToggleButton>
            {previewRefusal === undefined ? (
              <Button
                onClick={() => navigate(`/rollouts/preview${searchFromView(view)}`)}
                title="What a change of tags or desired properties would do to every device this filter matches"
              >
                Preview a change…
              </Button>
            ) : (
              <Tooltip content={previewRefusal} relationship="description">
                <Button disabled>Preview a change…</Button>
              </Tooltip>
            )}
            {adding ? (
              <Suspense fallback={addButton}>
                <AddDeviceDialog refusal={createRefusal} initiallyOpen />
              </Suspense>
            ) : (
              addButton
            )}
            {bulkShown && (
              <Suspense fallback={<Spinner size="tiny" />}>
                <BulkActions
                  selected={[...selected].map(([deviceId, etag]) => ({ deviceId, etag }))}
                  onDone={() => setSelected(new Map())}
                />
              </Suspense>
            )}
          </div>
        }
      />
    </div>
  );
}
