import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { FleetActivity } from '../../features/twin-history/components/fleet-activity.tsx';
import { useLiveEvents, useWatchFleet } from '../../features/live/use-live.ts';
import { ACTIVITY_FILTER_KEYS, type ActivityFilter } from '../../lib/api-paths.ts';
import { activityKeys } from '../../lib/query-keys.ts';
import { navigate } from '../../lib/router.tsx';
import { filterFromSearch, searchFromFilter } from '../../lib/search-filter.ts';

/** The fleet's latest twin changes (anyone who may read twins), refreshed live. */
export function ActivityRoute({ search }: { search: URLSearchParams }) {
  const queryClient = useQueryClient();
  const searchText = search.toString();
  const filter: ActivityFilter = useMemo(
    () => filterFromSearch(new URLSearchParams(searchText), ACTIVITY_FILTER_KEYS),
    [searchText],
  );
  const [paused, setPaused] = useState(false);
  const [unseen, setUnseen] = useState(0);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: activityKeys.all });
  useWatchFleet('fleet', true, () => {
    if (!paused) refresh();
  });
  useLiveEvents((event) => {
    if (event.type !== 'fleet-changes') return;
    if (paused) setUnseen((n) => n + event.count);
    else refresh();
  });
  return (
    <FleetActivity
      filter={filter}
      onFilter={(next) => navigate(`/activity${searchFromFilter(next, ACTIVITY_FILTER_KEYS)}`)}
      paused={paused}
      onPause={(next) => {
        setPaused(next);
        if (!next) {
          setUnseen(0);
          refresh();
        }
      }}
      unseen={unseen}
    />
  );
}
