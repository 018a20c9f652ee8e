import { useQueryClient } from '@tanstack/react-query';
import { useLiveEvents, useWatchFleet } from '../../features/live/use-live.ts';
import { RolloutPage } from '../../features/rollouts/components/rollout-page.tsx';
import { RolloutsPage } from '../../features/rollouts/components/rollouts-page.tsx';
import { rolloutKeys } from '../../lib/query-keys.ts';
import { usePermissions } from '../use-permissions.ts';

/** Keeps the rollouts on screen current: any replica's change to one refetches it. */
function useLiveRollouts() {
  const queryClient = useQueryClient();
  const refresh = (id?: string) =>
    void queryClient.invalidateQueries({ queryKey: id ? rolloutKeys.one(id) : rolloutKeys.all });
  useWatchFleet('rollouts', true, () => refresh());
  useLiveEvents((event) => {
    if (event.type !== 'rollout') return;
    refresh(event.id);
    void queryClient.invalidateQueries({ queryKey: rolloutKeys.all, exact: true });
  });
}

export function RolloutsRoute() {
  useLiveRollouts();
  return <RolloutsPage />;
}

export function RolloutRoute({ id }: { id: string }) {
  useLiveRollouts();
  const permissions = usePermissions();
  return <RolloutPage id={id} refusalOf={(action) => permissions.why(`rollout.${action}`)} />;
}
