import { Badge, Button, Text } from '@fluentui/react-components';
import type { ChangeSource, FleetChange } from '@twinscope/contract';
import {
  FilterForm,
  FilterSelect,
  PagedList,
  withValue,
} from '../../../components/filter-page.tsx';
import type { ActivityFilter } from '../../../lib/api-paths.ts';
import { relativeTime } from '../../../lib/format.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useFleetActivity } from '../api/fleet-activity.ts';
import { CatchingUpNotice } from './catching-up.tsx';

const SECTIONS = [
  ['', 'Every section'],
  ['tags', 'Tags'],
  ['desired', 'Desired properties'],
  ['reported', 'Reported properties'],
] as const;

const SOURCES: readonly (readonly [ChangeSource | '', string])[] = [
  ['', 'Anyone'],
  ['twinscope', 'Someone in Twinscope'],
  ['device', 'A device'],
  ['module', 'A module'],
  ['backend', 'Another back end'],
];

const SOURCE_COLOR: Record<ChangeSource, 'brand' | 'success' | 'informative' | 'warning'> = {
  twinscope: 'brand',
  device: 'success',
  module: 'success',
  backend: 'warning',
};

/** Where a change opens: its twin's page at that version, compared with the one before. */
export const versionPath = (change: FleetChange) =>
  `${devicePath(change.deviceId, change.moduleId)}?version=${change.version}`;

/**
 * The fleet's latest twin changes, whoever made them: filters in the URL, newest first,
 * refreshed live as the history stores more (unless paused), each opening its twin at that
 * version.
 */
export function FleetActivity({
  filter,
  onFilter,
  paused,
  onPause,
  unseen,
}: {
  filter: ActivityFilter;
  onFilter(next: ActivityFilter): void;
  paused: boolean;
  onPause(paused: boolean): void;
  /** Changes stored since the page was paused. */
  unseen: number;
}) {
  const query = useFleetActivity(filter);
  const changes = query.data?.pages.flatMap((page) => page.changes) ?? [];
  const set = (key: keyof ActivityFilter, value: string | undefined) =>
    onFilter(withValue(filter, key, value));

  return (
    <section className="page" aria-label="Fleet activity" data-testid="fleet-activity">
      <FilterForm
        filter={filter}
        onFilter={onFilter}
        fields={[
          { key: 'deviceId', placeholder: 'Device id', label: 'Filter by device' },
          { key: 'moduleId', placeholder: 'Module id', label: 'Filter by module' },
          { key: 'key', placeholder: 'Key, as firmware.version', label: 'Filter by key' },
        ]}
      >
        <FilterSelect
          label="Filter by section"
          value={filter.section}
          options={SECTIONS}
          onChange={(value) => set('section', value)}
        />
        <FilterSelect
          label="Filter by who made it"
          value={filter.source}
          options={SOURCES}
          onChange={(value) => set('source', value)}
        />
        <Button onClick={() => onPause(!paused)} aria-pressed={paused}>
          {paused ? `Resume live${unseen > 0 ? ` (${unseen} new)` : ''}` : 'Pause live'}
        </Button>
      </FilterForm>
      <CatchingUpNotice events={query.data?.pages[0]?.catchingUp} />
      <PagedList
        query={query}
        count={changes.length}
        loading="Loading the fleet's twin changes…"
        empty={
          Object.keys(filter).length > 0
            ? 'No stored twin change matches these filters.'
            : "No twin change stored yet: the history starts with the first change Twinscope's consumer reads."
        }
        more="Older changes"
      >
        <table className="invocations" data-testid="activity-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Twin</th>
              <th>Version</th>
              <th>Who</th>
              <th>What changed</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((change) => (
              <tr
                key={`${change.deviceId}/${change.moduleId ?? ''}@${change.version}`}
                data-testid="activity-row"
              >
                <td title={new Date(change.at).toLocaleString()}>{relativeTime(change.at)}</td>
                <td>
                  <Link to={devicePath(change.deviceId, change.moduleId)}>
                    {change.moduleId ? `${change.deviceId}/${change.moduleId}` : change.deviceId}
                  </Link>
                </td>
                <td>
                  <Link to={versionPath(change)}>v{change.version}</Link>
                </td>
                <td>
                  <Badge appearance="tint" color={SOURCE_COLOR[change.source]}>
                    {change.by}
                  </Badge>
                </td>
                <td>
                  {change.oversized && <Badge color="warning">too large to keep</Badge>}
                  <ul className="change-lines">
                    {(change.changes ?? []).map((line) => (
                      <li key={line}>
                        <code>{line}</code>
                      </li>
                    ))}
                  </ul>
                  <Text size={200} className="muted">
                    {change.sections.join(', ')}
                  </Text>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
