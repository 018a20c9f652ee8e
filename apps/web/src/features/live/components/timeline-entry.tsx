import { Badge, Text } from '@fluentui/react-components';
import type { TimelineEntry } from '@twinscope/contract';
import { RESULT_COLOR } from '../../../lib/result-colors.ts';
import { detailText, KIND_LABELS } from '../timeline-model.ts';

/**
 * One line of a device's timeline: when, what kind, the module, what happened and who did
 * it, an outcome other than success, and its body or record folded away.
 */
export function TimelineEntryLine({ entry }: { entry: TimelineEntry }) {
  const detail = detailText(entry);
  return (
    <li data-testid="timeline-entry" data-kind={entry.kind}>
      <div className="history-line">
        <span className="muted" title={entry.at}>
          {new Date(entry.at).toLocaleTimeString()}
        </span>
        <Badge appearance="tint">{KIND_LABELS[entry.kind]}</Badge>
        {entry.moduleId && <Badge appearance="outline">{entry.moduleId}</Badge>}
        <span>{entry.title}</span>
        {entry.by && <Text className="muted">by {entry.by}</Text>}
        {entry.result && entry.result !== 'succeeded' && (
          <Badge color={RESULT_COLOR[entry.result]}>
            {entry.result === 'unknown' ? 'in progress or unknown' : entry.result}
          </Badge>
        )}
      </div>
      {detail !== undefined && (
        <details>
          <summary className="muted">
            {entry.telemetry ? `Body (${entry.telemetry.body.kind})` : 'Details'}
          </summary>
          <pre>{detail}</pre>
        </details>
      )}
    </li>
  );
}
