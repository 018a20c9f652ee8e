import { Badge, Text } from '@fluentui/react-components';
import type { TwinVersionsResponse } from '@twinscope/contract';
import { relativeTime } from '../../../lib/format.ts';

/**
 * The twin's versions, newest first: which sections changed, by whom and when, what the
 * event said, and the versions never seen before each one; a linked version is marked.
 */
export function VersionList({
  versions,
  gaps,
  focus,
}: {
  versions: TwinVersionsResponse['versions'];
  gaps: TwinVersionsResponse['gaps'];
  focus: number | undefined;
}) {
  return (
    <ol className="history-list">
      {versions.map((v) => {
        const gap = gaps.find((g) => g.to === v.version - 1);
        return (
          <li
            key={v.version}
            id={`version-${v.version}`}
            className={v.version === focus ? 'history-entry focused' : 'history-entry'}
            data-testid="version"
          >
            <div className="history-line">
              <strong>v{v.version}</strong>
              <span>{v.sections.join(', ')}</span>
              <Text className="muted">by {v.by}</Text>
              <span className="muted" title={new Date(v.at).toLocaleString()}>
                {relativeTime(v.at)}
              </span>
              {v.oversized && <Badge color="warning">too large to keep</Badge>}
            </div>
            {v.changes && v.changes.length > 0 && (
              <ul className="change-lines" aria-label="What the event says">
                {v.changes.map((line) => (
                  <li key={line}>
                    <code>{line}</code>
                  </li>
                ))}
              </ul>
            )}
            {gap && (
              <div className="muted" data-testid="version-gap">
                {gap.from === gap.to
                  ? `Version ${gap.from} was not seen`
                  : `Versions ${gap.from}–${gap.to} were not seen`}{' '}
                (the BFF was down longer than the endpoint keeps events, or changes merged).
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
