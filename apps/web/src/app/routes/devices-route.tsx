import { useMemo, useState } from 'react';
import { DeviceList } from '../../features/devices/components/device-list.tsx';
import { viewFromSearch } from '../../features/devices/filter-model.ts';
import { useWatchTwins } from '../../features/live/use-live.ts';

export function DevicesRoute({ search }: { search: URLSearchParams }) {
  const searchText = search.toString();
  const view = useMemo(() => viewFromSearch(new URLSearchParams(searchText)), [searchText]);
  const [visible, setVisible] = useState<string[]>([]);
  useWatchTwins(visible.map((deviceId) => ({ deviceId })));
  return <DeviceList view={view} onVisible={setVisible} />;
}
