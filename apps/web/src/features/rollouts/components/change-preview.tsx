import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { DeviceFilterRequest } from '@twinscope/contract';
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link } from '../../../lib/router.tsx';
import { useDryRun } from '../api/dry-run.ts';
import { changeFromText, changeMarkers } from '../change-text.ts';
import { describeFilter } from '../preview-text.ts';
import { DryRunResult } from './dry-run-result.tsx';
import { RolloutForm } from './rollout-form.tsx';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

const EXAMPLE = '{\n  "desired": { "telemetry": { "intervalSeconds": 15 } }\n}';

/**
 * Previews a change of tags or desired properties over the devices a list filter matches
 * (or one module of each): how many match, how many would change, some of them before and
 * after, and how long the writes take at the hub's budget. It reads; it writes nothing. Once
 * previewed, the same change can be rolled out in guarded waves.
 */
export function ChangePreview({
  filter,
  listPath,
  dark,
}: {
  filter: DeviceFilterRequest;
  listPath: string;
  dark: boolean;
}) {
  const [text, setText] = useState(EXAMPLE);
  const markers = useMemo(() => changeMarkers(text), [text]);
  const [moduleId, setModuleId] = useState('');
  const [problem, setProblem] = useState<string>();
  const dryRun = useDryRun();
  const run = () => {
    const parsed = changeFromText(text);
    if (!parsed.ok) return setProblem(parsed.error);
    setProblem(undefined);
    const module = moduleId.trim();
    dryRun.mutate({ filter, ...(module ? { moduleId: module } : {}), change: parsed.change });
  };
  const previewed = dryRun.variables;
  // The rollout starts from what was previewed, not from what was typed since.
  const current = changeFromText(text);
  const stale =
    !previewed ||
    !current.ok ||
    JSON.stringify(previewed.change) !== JSON.stringify(current.change) ||
    (previewed.moduleId ?? '') !== moduleId.trim();
  return (
    <section className="page" aria-label="Preview a fleet change" data-testid="change-preview">
      <Text>
        Devices: <Link to={listPath}>{describeFilter(filter)}</Link>
      </Text>
      <form
        className="method-panel"
        onSubmit={(event) => {
          event.preventDefault();
          run();
        }}
      >
        <Field
          label="Module"
          hint="Empty: each device's own twin. A module id (controller): that module's twin on each device that has it."
        >
          <Input
            value={moduleId}
            onChange={(_e, d) => setModuleId(d.value)}
            placeholder="the device twins"
          />
        </Field>
        <Field
          label="Change"
          hint='Tags and desired properties to set (null removes), as {"tags": {…}, "desired": {…}}; or a direct method to call, as {"method": {"methodName": "reboot", "payload": {…}}}.'
        >
          <Suspense fallback={<Spinner size="tiny" label="Loading editor…" />}>
            <JsonEditor
              value={text}
              onChange={setText}
              onRun={run}
              markers={markers}
              dark={dark}
              ariaLabel="Change"
              testId="change-editor"
              compact
            />
          </Suspense>
        </Field>
        <div className="action-row">
          <Button type="submit" appearance="primary" disabled={dryRun.isPending}>
            Dry run
          </Button>
          <Text size={200} className="muted">
            Ctrl+Enter in the editor
          </Text>
          {dryRun.isPending && <Spinner size="tiny" label="Asking the hub…" />}
        </div>
      </form>
      {(problem || dryRun.error) && (
        <MessageBar intent="error" data-testid="dry-run-error">
          <MessageBarBody>{problem ?? dryRun.error?.message}</MessageBarBody>
        </MessageBar>
      )}
      {dryRun.data && (
        <DryRunResult
          result={dryRun.data}
          noun={previewed?.moduleId ? `"${previewed.moduleId}" modules` : 'devices'}
          call={previewed?.change.method !== undefined}
        />
      )}
      {dryRun.data && previewed && !stale && dryRun.data.targets > 0 && (
        <RolloutForm request={previewed} targets={dryRun.data.targets} />
      )}
      {dryRun.data && stale && (
        <Text className="muted" data-testid="preview-stale">
          The change or module differs from the one previewed: run the dry run again to roll it out.
        </Text>
      )}
    </section>
  );
}
