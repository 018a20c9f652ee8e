import { Text } from '@fluentui/react-components';
import type { DryRunResponse } from '@twinscope/contract';
import { devicePath, Link } from '../../../lib/router.tsx';
import { duration } from '../preview-text.ts';

/**
 * What a dry run found: how many twins match and how many would change (or each would be
 * called), how long the writes take at the hub's budget, and some twins before and after.
 */
export function DryRunResult({
  result,
  noun,
  call,
}: {
  result: DryRunResponse;
  noun: string;
  /** A direct method: nothing to compare, each target is called. */
  call: boolean;
}) {
  const { estimate } = result;
  const what = call ? 'direct method calls' : 'twin updates';
  return (
    <div data-testid="dry-run-result" className="method-panel">
      <Text>
        <strong>{result.targets.toLocaleString()}</strong> {noun} match;{' '}
        {call ? (
          <>each would be called.</>
        ) : result.willChange === null ? (
          <>how many already hold the change is unknown: {result.unknownReason}.</>
        ) : (
          <>
            <strong>{result.willChange.toLocaleString()}</strong> would change and{' '}
            {result.unchanged!.toLocaleString()} already hold it.
          </>
        )}
      </Text>
      <Text className="muted">
        {estimate.twinUpdatesPerSecond === null
          ? 'The hub has no twin update limit here (the emulator without a tier).'
          : `At the hub's ${estimate.twinUpdatesPerSecond} ${what} a second, this takes at least ${duration(estimate.seconds ?? 0)}, shared with everything else Twinscope does.`}{' '}
        The preview spent {estimate.queries} queries.
      </Text>
      {result.sample.length > 0 && (
        <table className="invocations" data-testid="dry-run-sample">
          <thead>
            <tr>
              <th>Device</th>
              <th>Before</th>
              <th>After</th>
            </tr>
          </thead>
          <tbody>
            {result.sample.map((row) => (
              <tr key={`${row.deviceId}/${row.moduleId ?? ''}`}>
                <td>
                  <Link to={devicePath(row.deviceId, row.moduleId)}>
                    {row.moduleId ? `${row.deviceId}/${row.moduleId}` : row.deviceId}
                  </Link>
                </td>
                <td>
                  <pre className="history-change">{JSON.stringify(row.before, null, 2)}</pre>
                </td>
                <td>
                  <pre className="history-change">{JSON.stringify(row.after, null, 2)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
