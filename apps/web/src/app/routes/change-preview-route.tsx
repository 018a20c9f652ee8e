import { useMemo } from 'react';
import { viewFromSearch, searchFromView } from '../../features/devices/filter-model.ts';
import { ChangePreview } from '../../features/rollouts/components/change-preview.tsx';
import { usePermissions } from '../use-permissions.ts';

/** Previews a fleet change over the list filter the page's URL carries (Operators). */
export function ChangePreviewRoute({ search, dark }: { search: URLSearchParams; dark: boolean }) {
  const permissions = usePermissions();
  const searchText = search.toString();
  const view = useMemo(() => viewFromSearch(new URLSearchParams(searchText)), [searchText]);
  const refusal = permissions.why('rollout.preview');
  if (refusal) return <p className="muted">{refusal}</p>;
  const { prefix, tags, where } = view.filter;
  return (
    <ChangePreview
      filter={{ ...(prefix ? { prefix } : {}), tags, ...(where ? { where } : {}) }}
      listPath={`/devices${searchFromView(view)}`}
      dark={dark}
    />
  );
}
