import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Switch,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import { useModuleLogs } from '../api/get-module-logs.ts';
import { checkLogForm, logText } from '../log-query.ts';

/**
 * A module's logs through the Edge agent: the last lines, only those matching, since when,
 * and following them as they come.
 */
export function ModuleLogs({
  deviceId,
  module,
  onClose,
}: {
  deviceId: string;
  module: string;
  onClose(): void;
}) {
  const [tailText, setTailText] = useState('200');
  const [filter, setFilter] = useState('');
  const [since, setSince] = useState('');
  const [follow, setFollow] = useState(true);
  const { query, tailOk, sinceOk, filterProblem } = checkLogForm({
    tail: tailText,
    filter,
    since,
  });
  const logs = useModuleLogs(deviceId, module, query, follow);
  return (
    <section className="edge-logs" aria-label={`Logs of ${module}`} data-testid="edge-logs">
      <div className="section-head">
        <h3>Logs of {module}</h3>
        <Button size="small" onClick={onClose}>
          Close
        </Button>
      </div>
      <div className="edge-logs-form">
        <Field
          label="Last lines"
          validationState={tailOk ? 'none' : 'error'}
          validationMessage={tailOk ? undefined : '1 to 5000 lines.'}
        >
          <Input type="number" value={tailText} onChange={(_e, d) => setTailText(d.value)} />
        </Field>
        <Field
          label="Only lines matching"
          validationState={filterProblem ? 'error' : 'none'}
          validationMessage={filterProblem}
        >
          <Input
            value={filter}
            onChange={(_e, d) => setFilter(d.value)}
            placeholder="error|warn"
            aria-label="Log filter"
          />
        </Field>
        <Field
          label="Since"
          validationState={sinceOk ? 'none' : 'error'}
          validationMessage={sinceOk ? undefined : 'A duration (15m, 2h, 1d) or a time.'}
        >
          <Input
            value={since}
            onChange={(_e, d) => setSince(d.value.trim())}
            placeholder="15m"
            aria-label="Logs since"
          />
        </Field>
        <Switch checked={follow} onChange={(_e, d) => setFollow(d.checked)} label="Follow" />
      </div>
      {logs.isPending ? (
        <Spinner size="tiny" label="Asking the Edge agent for logs…" />
      ) : logs.isError ? (
        <MessageBar intent="error">
          <MessageBarBody>{logs.error.message}</MessageBarBody>
        </MessageBar>
      ) : logs.data.lines.length === 0 ? (
        <Text className="muted">No lines{filter ? ' match' : ' yet'}.</Text>
      ) : (
        <pre className="edge-log-lines" data-testid="edge-log-lines">
          {logText(logs.data.lines)}
        </pre>
      )}
    </section>
  );
}
