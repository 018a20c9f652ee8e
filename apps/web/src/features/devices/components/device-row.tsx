import { Badge, Checkbox } from '@fluentui/react-components';
import type { DeviceSummary } from '@twinscope/contract';
import type { CSSProperties } from 'react';
import { relativeTime } from '../../../lib/format.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { tagValue } from '../filter-model.ts';

/** Connected or not, as a badge (device and module rows alike). */
export function ConnectionBadge({ state }: { state: string }) {
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

/**
 * One device of the fleet list: its id (the whole row opens it), status, connection, last
 * activity, modules connected, the chosen tag columns, and its selection box when the list
 * selects.
 */
export function DeviceRow({
  device,
  columns,
  style,
  selected,
  onSelect,
}: {
  device: DeviceSummary;
  /** Tag paths shown as columns. */
  columns: string[];
  /** Where the virtual list places the row, and its grid columns. */
  style: CSSProperties;
  /** Whether the row is selected; absent when the list does not select. */
  selected?: boolean;
  onSelect?(on: boolean): void;
}) {
  return (
    <div className="grid-row device-row" role="row" data-testid="device-row" style={style}>
      {selected !== undefined && (
        <span role="cell" className="row-select">
          <Checkbox
            aria-label={`Select ${device.deviceId}`}
            checked={selected}
            onChange={(_e, data) => onSelect?.(data.checked === true)}
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
      {columns.map((column) => (
        <span role="cell" key={column}>
          {tagValue(device.tags, column)}
        </span>
      ))}
    </div>
  );
}
