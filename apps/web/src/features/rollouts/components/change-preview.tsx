import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { DeviceFilterRequest, DryRunResponse } from '@twinscope/contract';
import { validateSectionPatch } from '@twinscope/twin';
import { lazy, Suspense, useMemo, useState } from 'react';
import type { EditorMarker } from '../../../components/monaco.tsx';
import { parseJsonText } from '../../../lib/json-text.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useDryRun } from '../api/dry-run.ts';
import { changeFromText } from '../change-text.ts';
import { RolloutForm } from './rollout-form.tsx';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

/** What is wrong with the change as typed, where it is: JSON, its shape, the twin rules. */
function markersOf(text: string): EditorMarker[] {
  const json = parseJsonText(text, 'The change');
  if (!json.ok) return [{ message: json.message, offset: json.offset ?? 0 }];
  const parsed = changeFromText(text);
  if (!parsed.ok) return [{ message: parsed.error, offset: 0 }];
  return (['tags', 'desired'] as const).flatMap((section) => {
    const patch = parsed.change[section];
    if (!patch) return [];
    return validateSectionPatch(section, patch).map((violation) => ({
      // The rules name places from the twin's root; this document holds `desired` itself.
      location:
        violation.location[0] === 'properties' ? violation.location.slice(1) : violation.location,
      message: `${violation.path}: ${violation.message}`,
    }));
  });
}

const EXAMPLE = '{\n  "desired": { "telemetry": { "intervalSeconds": 15 } }\n}';

function describe(filter: DeviceFilterRequest): string {
  const parts = [
    filter.prefix && `ids starting with ${filter.prefix}`,
    ...(filter.tags ?? []).map((t) => `tag ${t}`),
    filter.where && `WHERE ${filter.where}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'every device';
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function Result({
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
  const markers = useMemo(() => markersOf(text), [text]);
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
        Devices: <Link to={listPath}>{describe(filter)}</Link>
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
        <Result
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
