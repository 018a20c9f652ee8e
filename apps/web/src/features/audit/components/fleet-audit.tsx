import { Badge, Button, Input, Text } from '@fluentui/react-components';
import type { AuditEntry } from '@twinscope/contract';
import { useMemo } from 'react';
import {
  FilterForm,
  FilterSelect,
  PagedList,
  withValue,
} from '../../../components/filter-page.tsx';
import { apiPaths, type AuditFilter } from '../../../lib/api-paths.ts';
import { fromLocalInput, relativeTime, toLocalInput } from '../../../lib/format.ts';
import { RESULT_COLOR } from '../../../lib/result-colors.ts';
import { devicePath, enrollmentPath, Link } from '../../../lib/router.tsx';
import { ACTIONS } from '../actions.ts';
import { useFleetAudit } from '../api/fleet-audit.ts';
import { matchesFilter, mergeRecords } from '../audit-filter.ts';

const KINDS = [
  ['', 'Every kind'],
  ['twin', 'Twin changes'],
  ['method', 'Direct methods'],
  ['message', 'Messages'],
  ['device', 'Device identities'],
  ['module', 'Module identities'],
  ['configuration', 'Configurations'],
  ['rollout', 'Rollouts'],
  ['provisioning', 'Provisioning'],
] as const;

/** A provisioning record: an enrollment (its page) or a device's registration. */
function ProvisioningTarget({
  target,
}: {
  target: NonNullable<AuditEntry['target']['provisioning']>;
}) {
  if (target.kind === 'registration') return <span>registration {target.id}</span>;
  return (
    <Link to={enrollmentPath(target.kind, target.id)}>
      {target.kind === 'group' ? 'enrollment group' : 'individual enrollment'} {target.id}
    </Link>
  );
}

/**
 * Who did what, where and when, across the fleet and every replica: filters in the URL,
 * newest first, pages on request, new records live, export with the same filters (Admin).
 */
export function FleetAudit({
  filter,
  onFilter,
  live,
  canExport,
}: {
  filter: AuditFilter;
  onFilter(next: AuditFilter): void;
  /** Records heard live since the page opened (any filter; matched here). */
  live: AuditEntry[];
  canExport: boolean;
}) {
  const query = useFleetAudit(filter);
  const records = useMemo(
    () =>
      mergeRecords(
        live.filter((entry) => matchesFilter(entry, filter)),
        query.data?.pages.flatMap((page) => page.entries) ?? [],
      ),
    [live, filter, query.data],
  );
  const set = (key: keyof AuditFilter, value: string | undefined) =>
    onFilter(withValue(filter, key, value));

  return (
    <section className="page" aria-label="Audit trail" data-testid="fleet-audit">
      <FilterForm
        filter={filter}
        onFilter={onFilter}
        fields={[
          { key: 'actor', placeholder: 'Person (name or id)', label: 'Filter by person' },
          { key: 'deviceId', placeholder: 'Device id', label: 'Filter by device' },
        ]}
      >
        <FilterSelect
          label="Filter by kind"
          value={filter.kind}
          options={KINDS}
          onChange={(value) => set('kind', value)}
        />
        <Input
          type="datetime-local"
          aria-label="From"
          value={filter.from ? toLocalInput(filter.from) : ''}
          onChange={(_e, d) => set('from', fromLocalInput(d.value))}
        />
        <Input
          type="datetime-local"
          aria-label="Until"
          value={filter.to ? toLocalInput(filter.to) : ''}
          onChange={(_e, d) => set('to', fromLocalInput(d.value))}
        />
        {canExport && (
          <Button as="a" href={apiPaths.auditExport(filter)}>
            Export JSON lines
          </Button>
        )}
      </FilterForm>
      <PagedList
        query={query}
        count={records.length}
        loading="Loading the audit trail…"
        empty="Nothing recorded matches these filters."
        more="Older records"
      >
        <table className="invocations" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Where</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {records.map((entry) => (
              <tr key={entry.id} data-testid="audit-row">
                <td title={new Date(entry.at).toLocaleString()}>{relativeTime(entry.at)}</td>
                <td>{entry.actor.name}</td>
                <td>{ACTIONS[entry.action]}</td>
                <td>
                  {entry.target.provisioning ? (
                    <ProvisioningTarget target={entry.target.provisioning} />
                  ) : entry.target.configurationId ? (
                    <Link to="/configurations">configuration {entry.target.configurationId}</Link>
                  ) : entry.target.rolloutId && !entry.target.deviceId ? (
                    <Link to={`/rollouts/${entry.target.rolloutId}`}>the rollout</Link>
                  ) : (
                    <Link to={devicePath(entry.target.deviceId, entry.target.moduleId)}>
                      {entry.target.moduleId
                        ? `${entry.target.deviceId}/${entry.target.moduleId}`
                        : entry.target.deviceId}
                    </Link>
                  )}
                </td>
                <td>
                  <Badge color={RESULT_COLOR[entry.result]} appearance="tint">
                    {entry.result}
                  </Badge>
                  {entry.error && <Text className="muted"> {entry.error.message}</Text>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
