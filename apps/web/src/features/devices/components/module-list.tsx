import { Button } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { relativeTime } from '../../../lib/format.ts';
import { devicePath, Link, navigate } from '../../../lib/router.tsx';
import { useFleetModules } from '../api/get-fleet-modules.ts';
import { searchFromView, tagValue, type ListView } from '../filter-model.ts';
import { DeviceFilterBar } from './device-filter-bar.tsx';
import { ConnectionBadge } from './device-row.tsx';
import { ListFrame } from './list-frame.tsx';

/**
 * The fleet's module twins (`SELECT * FROM devices.modules WHERE …`): each module with its
 * device, its connection, and the reported properties chosen as columns; filtered like the
 * device list (a device-id prefix, tag chips, or a WHERE clause on module twin properties).
 */
export function ModuleList({ view, actions }: { view: ListView; actions?: ReactNode }) {
  const query = useFleetModules(view.filter);
  const modules = query.data?.pages.flatMap((page) => page.items) ?? [];
  const first = query.data?.pages[0];
  const go = (next: ListView) => navigate(`/devices${searchFromView(next)}`);
  return (
    <section className="device-list" aria-label="Modules">
      <DeviceFilterBar view={view} onView={go} />
      {actions}
      <ListFrame
        noun="modules"
        loaded={modules.length}
        first={first}
        query={query}
        countTestId="module-count"
        emptyHint="Remove a filter, or check the WHERE clause (it reads module twins: moduleId, properties.reported.…)."
      >
        <>
          <table className="invocations" data-testid="module-rows">
            <caption className="visually-hidden">Modules that match the filter</caption>
            <thead>
              <tr>
                <th scope="col">Module</th>
                <th scope="col">Device</th>
                <th scope="col">Connection</th>
                <th scope="col">Last activity</th>
                {view.columns.map((column) => (
                  <th scope="col" key={column}>
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {modules.map((m) => (
                <tr key={`${m.deviceId}/${m.moduleId}`} data-testid="module-row">
                  <td>
                    <Link to={devicePath(m.deviceId, m.moduleId)}>{m.moduleId}</Link>
                  </td>
                  <td>
                    <Link to={devicePath(m.deviceId)}>{m.deviceId}</Link>
                  </td>
                  <td>
                    <ConnectionBadge state={m.connectionState} />
                  </td>
                  <td title={m.lastActivityTime}>{relativeTime(m.lastActivityTime)}</td>
                  {view.columns.map((column) => (
                    <td key={column}>{tagValue(m.reported, column) || tagValue(m.tags, column)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {query.hasNextPage && (
            <Button disabled={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
              {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </Button>
          )}
        </>
      </ListFrame>
    </section>
  );
}
