import type { AuditEntry } from '@twinscope/contract';
import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { auditKeys } from '../../lib/query-keys.ts';
import { FleetAudit } from '../../features/audit/components/fleet-audit.tsx';
import { filterFromSearch, searchFromFilter } from '../../features/audit/audit-filter.ts';
import { useLiveEvents, useWatchFleet } from '../../features/live/use-live.ts';
import { navigate } from '../../lib/router.tsx';
import { usePermissions } from '../use-permissions.ts';

/** The fleet's audit trail (Operators and Admins), kept live from the tab's stream. */
export function AuditRoute({ search }: { search: URLSearchParams }) {
  const permissions = usePermissions();
  const searchText = search.toString();
  const filter = useMemo(() => filterFromSearch(new URLSearchParams(searchText)), [searchText]);
  const [live, setLive] = useState<AuditEntry[]>([]);
  const queryClient = useQueryClient();
  useWatchFleet(
    'audit',
    permissions.may('audit.read'),
    () => void queryClient.invalidateQueries({ queryKey: auditKeys.all }),
  );
  useLiveEvents((event) => {
    if (event.type !== 'activity') return;
    // Newest first; an outcome replaces its attempt; the page keeps at most 500 heard live.
    setLive((current) =>
      [event.entry, ...current.filter((e) => e.id !== event.entry.id)].slice(0, 500),
    );
  });
  const refusal = permissions.why('audit.read');
  if (refusal) return <p className="muted">{refusal}</p>;
  return (
    <FleetAudit
      filter={filter}
      onFilter={(next) => navigate(`/audit${searchFromFilter(next)}`)}
      live={live}
      canExport={permissions.may('audit.export')}
    />
  );
}
