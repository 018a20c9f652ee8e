import {
  Badge,
  Button,
  Checkbox,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Spinner,
  Tag,
  TagGroup,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import { useVirtualizer } from '@tanstack/react-virtual';
import { PAGE_SIZES, type DeviceSummary } from '@twinscope/contract';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { relativeTime } from '../../../lib/format.ts';
import { ThrottledNotice } from '../../../lib/throttled-notice.tsx';
import { devicePath, Link, navigate } from '../../../lib/router.tsx';
import { useDevices } from '../api/get-devices.ts';
import { classifyInput, searchFromView, tagValue, type ListView } from '../filter-model.ts';

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

function ConnectionBadge({ state }: { state: string }) {
  return state === 'Connected' ? (
    <Badge color="success" appearance="tint">
      Connected
    </Badge>
  ) : (
    <Badge color="informative" appearance="outline">
      Disconnected
    </Badge>
  );
}

/** The fleet: server-paged, virtualized, filtered by prefix, tag chips or a raw WHERE clause. */
export function DeviceList({ view, onVisible, selection, actions }: DeviceListProps) {
  const query = useDevices(view.filter);
  const [draft, setDraft] = useState('');
  const [columnsDraft, setColumnsDraft] = useState(view.columns.join(', '));
  const filterBox = useRef<HTMLInputElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const devices = useMemo(
    () => query.data?.pages.flatMap((page) => page.items) ?? [],
    [query.data],
  );
  const first = query.data?.pages[0];

  const go = (next: ListView) => navigate(`/devices${searchFromView(next)}`);
  const addFilter = () => {
    const input = classifyInput(draft);
    if (!input) return;
    const filter = { ...view.filter };
    if (input.kind === 'tag')
      filter.tags = [...filter.tags.filter((t) => t !== input.value), input.value];
    else filter[input.kind] = input.value;
    setDraft('');
    go({ ...view, filter });
  };
  const removeFilter = (kind: 'prefix' | 'where' | 'tag', value?: string) => {
    const filter = { ...view.filter };
    if (kind === 'tag') filter.tags = filter.tags.filter((t) => t !== value);
    else delete filter[kind];
    go({ ...view, filter });
  };

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

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (
        event.key === '/' &&
        !['INPUT', 'TEXTAREA'].includes(target.tagName) &&
        !target.isContentEditable
      ) {
        event.preventDefault();
        filterBox.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

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
      <div className="filter-bar">
        <Input
          ref={filterBox}
          className="filter-input"
          value={draft}
          onChange={(_e, data) => setDraft(data.value)}
          onKeyDown={(event) => event.key === 'Enter' && addFilter()}
          placeholder="Filter: device-id prefix, site=berlin, or a WHERE clause  (press / to focus)"
          aria-label="Filter devices"
        />
        <Button onClick={addFilter} disabled={!draft.trim()}>
          Add filter
        </Button>
        <Tooltip content="Tag paths shown as columns, comma-separated" relationship="description">
          <Input
            className="columns-input"
            value={columnsDraft}
            onChange={(_e, data) => setColumnsDraft(data.value)}
            onKeyDown={(event) =>
              event.key === 'Enter' &&
              go({
                ...view,
                columns: columnsDraft
                  .split(',')
                  .map((c) => c.trim())
                  .filter(Boolean),
              })
            }
            aria-label="Tag columns"
          />
        </Tooltip>
        <Select
          aria-label="Page size"
          value={String(view.filter.pageSize)}
          onChange={(_e, data) =>
            go({ ...view, filter: { ...view.filter, pageSize: Number(data.value) } })
          }
        >
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size} per page
            </option>
          ))}
        </Select>
      </div>
      <TagGroup
        className="chips"
        aria-label="Active filters"
        onDismiss={(_e, data) => {
          const text = String(data.value);
          const at = text.indexOf(':');
          removeFilter(text.slice(0, at) as 'prefix' | 'where' | 'tag', text.slice(at + 1));
        }}
      >
        {view.filter.prefix && (
          <Tag dismissible value={`prefix:${view.filter.prefix}`}>
            id starts with {view.filter.prefix}
          </Tag>
        )}
        {view.filter.tags.map((tag) => (
          <Tag dismissible key={tag} value={`tag:${tag}`}>
            {tag}
          </Tag>
        ))}
        {view.filter.where && (
          <Tag dismissible value={`where:${view.filter.where}`}>
            WHERE {view.filter.where}
          </Tag>
        )}
      </TagGroup>

      {actions}
      <div className="list-status">
        {first && (
          <Text size={200} className="muted" data-testid="device-count">
            {devices.length} loaded
            {first.totalCount !== undefined ? ` of ${first.totalCount} devices` : ''} ·{' '}
            <code title="The IoT Hub query this filter runs">{first.query}</code>
          </Text>
        )}
        {query.isFetching && <Spinner size="extra-tiny" />}
      </div>

      {!query.isError && <ThrottledNotice reason={query.failureReason} />}
      {query.isError ? (
        <MessageBar intent="error" data-testid="list-error">
          <MessageBarBody>
            <MessageBarTitle>Could not list devices</MessageBarTitle>
            {query.error.message}
          </MessageBarBody>
        </MessageBar>
      ) : query.isPending ? (
        <Spinner label="Loading devices…" />
      ) : devices.length === 0 ? (
        <div className="empty" data-testid="empty-list">
          <Text size={400}>No devices match.</Text>
          <Text className="muted">Remove a filter, or check the WHERE clause.</Text>
        </div>
      ) : (
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
                  <div
                    key={device.deviceId}
                    className="grid-row device-row"
                    role="row"
                    data-testid="device-row"
                    style={{
                      gridTemplateColumns: template,
                      transform: `translateY(${item.start}px)`,
                      height: ROW_HEIGHT,
                    }}
                  >
                    {selection && (
                      <span role="cell" className="row-select">
                        <Checkbox
                          aria-label={`Select ${device.deviceId}`}
                          checked={selected?.has(device.deviceId) ?? false}
                          onChange={(_e, data) => toggle(device, data.checked === true)}
                        />
                      </span>
                    )}
                    <span role="cell" className="device-id">
                      {/* The link covers the whole row (see .device-link::after). */}
                      <Link to={devicePath(device.deviceId)} className="device-link">
                        {device.deviceId}
                      </Link>
                      {device.iotEdge && <Badge size="small">Edge</Badge>}
                    </span>
                    <span role="cell">{device.status}</span>
                    <span role="cell">
                      <ConnectionBadge state={device.connectionState} />
                    </span>
                    <span role="cell" title={device.lastActivityTime}>
                      {relativeTime(device.lastActivityTime)}
                    </span>
                    <span
                      role="cell"
                      data-testid="module-count"
                      title={
                        device.moduleCount === undefined
                          ? undefined
                          : `${device.modulesConnected ?? 0} of ${device.moduleCount} modules connected`
                      }
                    >
                      {device.moduleCount === undefined
                        ? '–'
                        : device.moduleCount === 0
                          ? '0'
                          : `${device.modulesConnected ?? 0}/${device.moduleCount}`}
                    </span>
                    {view.columns.map((column) => (
                      <span role="cell" key={column}>
                        {tagValue(device.tags, column)}
                      </span>
                    ))}
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
