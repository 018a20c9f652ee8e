import { Checkbox } from '@fluentui/react-components';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { DeviceSummary } from '@twinscope/contract';
import { useEffect, useMemo, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { navigate } from '../../../lib/router.tsx';
import { useDevices } from '../api/get-devices.ts';
import { searchFromView, type ListView } from '../filter-model.ts';
import { DeviceFilterBar } from './device-filter-bar.tsx';
import { DeviceRow } from './device-row.tsx';
import { ListFrame } from './list-frame.tsx';

const ROW_HEIGHT = 36;

export interface DeviceListProps {
  view: ListView;
  /** Called with the devices on screen, so their twins can be watched live. */
  onVisible?(deviceIds: string[]): void;
  /** Row selection (for bulk actions): device id → the identity etag the list showed. */
  selection?: {
    selected: ReadonlyMap<string, string>;
    onChange(next: Map<string, string>): void;
  };
  /** Shown above the list: creating devices, acting on the selection. */
  actions?: ReactNode;
}

/** The fleet: server-paged, virtualized, filtered by prefix, tag chips or a raw WHERE clause. */
export function DeviceList({ view, onVisible, selection, actions }: DeviceListProps) {
  const query = useDevices(view.filter);
  const scroller = useRef<HTMLDivElement>(null);
  const devices = useMemo(
    () => query.data?.pages.flatMap((page) => page.items) ?? [],
    [query.data],
  );
  const first = query.data?.pages[0];

  const go = (next: ListView) => navigate(`/devices${searchFromView(next)}`);

  const virtualizer = useVirtualizer({
    count: devices.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? -1;

  useEffect(() => {
    if (lastIndex >= devices.length - 20 && query.hasNextPage && !query.isFetchingNextPage)
      void query.fetchNextPage();
  }, [lastIndex, devices.length, query]);

  const visibleIds = items
    .map((item) => devices[item.index]?.deviceId)
    .filter((id): id is string => !!id);
  const visibleKey = visibleIds.join('|');
  const onVisibleRef = useRef(onVisible);
  useEffect(() => {
    onVisibleRef.current = onVisible;
  });
  // Keyed on the ids themselves, not the array instance (device ids hold no '|').
  useEffect(
    () => onVisibleRef.current?.(visibleKey === '' ? [] : visibleKey.split('|')),
    [visibleKey],
  );

  const onRowKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const rows = [
      ...(scroller.current?.querySelectorAll<HTMLAnchorElement>('a.device-link') ?? []),
    ];
    const at = rows.indexOf(document.activeElement as HTMLAnchorElement);
    const next =
      rows[Math.max(0, Math.min(rows.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  };

  const template = `${selection ? '36px ' : ''}minmax(220px, 2fr) 110px 130px 130px 80px ${view.columns.map(() => 'minmax(90px, 1fr)').join(' ')}`;
  const selected = selection?.selected;
  const toggle = (device: DeviceSummary, on: boolean) => {
    if (!selection) return;
    const next = new Map(selection.selected);
    if (on) next.set(device.deviceId, device.deviceEtag ?? '');
    else next.delete(device.deviceId);
    selection.onChange(next);
  };
  const allLoaded = devices.length > 0 && devices.every((d) => selected?.has(d.deviceId));

  return (
    <section className="device-list" aria-label="Devices">
      <DeviceFilterBar view={view} onView={go} />

      {actions}
      <ListFrame
        noun="devices"
        loaded={devices.length}
        first={first}
        query={query}
        countTestId="device-count"
        emptyHint="Remove a filter, or check the WHERE clause."
      >
        <div className="grid" role="table" aria-rowcount={first?.totalCount ?? devices.length}>
          <div className="grid-row grid-head" role="row" style={{ gridTemplateColumns: template }}>
            {selection && (
              <span role="columnheader">
                <Checkbox
                  aria-label="Select every loaded device"
                  checked={allLoaded ? true : selected?.size ? 'mixed' : false}
                  onChange={(_e, data) =>
                    selection.onChange(
                      data.checked === true
                        ? new Map(devices.map((d) => [d.deviceId, d.deviceEtag ?? '']))
                        : new Map(),
                    )
                  }
                />
              </span>
            )}
            <span role="columnheader">Device</span>
            <span role="columnheader">Status</span>
            <span role="columnheader">Connection</span>
            <span role="columnheader">Last activity</span>
            <span role="columnheader">Modules</span>
            {view.columns.map((column) => (
              <span role="columnheader" key={column}>
                {column}
              </span>
            ))}
          </div>
          <div className="grid-body" ref={scroller} onKeyDown={onRowKey}>
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {items.map((item) => {
                const device = devices[item.index] as DeviceSummary;
                return (
                  <DeviceRow
                    key={device.deviceId}
                    device={device}
                    columns={view.columns}
                    style={{
                      gridTemplateColumns: template,
                      transform: `translateY(${item.start}px)`,
                      height: ROW_HEIGHT,
                    }}
                    {...(selected
                      ? {
                          selected: selected.has(device.deviceId),
                          onSelect: (on: boolean) => toggle(device, on),
                        }
                      : {})}
                  />
                );
              })}
            </div>
          </div>
        </div>
      </ListFrame>
    </section>
  );
}
