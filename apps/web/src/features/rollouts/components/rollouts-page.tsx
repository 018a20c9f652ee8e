import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { relativeTime } from '../../../lib/format.ts';
import { Link } from '../../../lib/router.tsx';
import { useRollouts } from '../api/rollouts.ts';
import { progressOf, STATUS } from '../status.ts';

/** The latest rollouts, newest first, with where each is; live as they move. */
export function RolloutsPage() {
  const list = useRollouts();
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="page" aria-label="Rollouts" data-testid="rollouts">
      <Text className="muted">
        A rollout writes a change of tags or desired properties to a fleet in waves, checking each
        wave before the next. Start one from the device list: filter it, then{' '}
        <Link to="/rollouts/preview">Preview a change…</Link>
      </Text>
      {list.isPending ? (
        <Spinner size="tiny" label="Loading rollouts…" />
      ) : list.error ? (
        <MessageBar intent="error">
          <MessageBarBody>{list.error.message}</MessageBarBody>
        </MessageBar>
      ) : items.length === 0 ? (
        <p className="muted">No rollout yet.</p>
      ) : (
        <table className="invocations" data-testid="rollouts-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Progress</th>
              <th>Started by</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {items.map((rollout) => {
              const { done, total } = progressOf(rollout);
              return (
                <tr key={rollout.id} data-testid="rollout-row">
                  <td>
                    <Link to={`/rollouts/${rollout.id}`}>{rollout.name}</Link>
                  </td>
                  <td>
                    <Badge appearance="tint" color={STATUS[rollout.status].color}>
                      {STATUS[rollout.status].label}
                    </Badge>
                  </td>
                  <td>
                    {done.toLocaleString()} / {total.toLocaleString()}
                  </td>
                  <td>{rollout.createdBy.name}</td>
                  <td title={rollout.createdAt}>{relativeTime(rollout.createdAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list.hasNextPage && (
        <Button
          data-testid="rollouts-more"
          disabled={list.isFetchingNextPage}
          onClick={() => void list.fetchNextPage()}
        >
          {list.isFetchingNextPage ? 'Loading older rollouts…' : 'Older rollouts'}
        </Button>
      )}
    </section>
  );
}
