import { Badge } from '@fluentui/react-components';
import { RecentTable } from '../../../components/recent-table.tsx';
import { relativeTime } from '../../../lib/format.ts';
import type { useInvocations } from '../api/get-invocations.ts';
import { statusColour } from '../method-call.ts';

/** The direct methods called from Twinscope on this twin, each with its answer or why none. */
export function RecentCalls({ recent }: { recent: ReturnType<typeof useInvocations> }) {
  return (
    <RecentTable
      rows={recent.data?.invocations}
      pending={recent.isPending}
      error={recent.error}
      empty="No methods called from Twinscope yet."
      what="calls"
      columns={['Method', 'Answer']}
      testId="invocations"
      rowTestId="invocation"
      when={relativeTime}
      cells={(call) => [
        <code key="name">{call.methodName}</code>,
        call.status !== undefined ? (
          <Badge key="status" color={statusColour(call.status)}>
            {call.status}
          </Badge>
        ) : (
          <span key="status" title={call.error?.message}>
            {call.error?.code ?? call.result}
          </span>
        ),
      ]}
    />
  );
}
