import {
  Badge,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import { MethodNameSchema, type MethodInvokeResponse, type TwinRef } from '@twinscope/contract';
import { lazy, Suspense, useMemo, useState } from 'react';
import type { EditorMarker } from '../../../components/monaco.tsx';
import { RecentTable } from '../../../components/recent-table.tsx';
import { relativeTime } from '../../../lib/format.ts';
import { parseJsonText, type ParsedJson } from '../../../lib/json-text.ts';
import { useInvocations } from '../api/get-invocations.ts';
import { useInvokeMethod } from '../api/invoke-method.ts';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

function parsePayload(text: string): ParsedJson {
  return text.trim() === '' ? { ok: true, value: null } : parseJsonText(text, 'The payload');
}

function statusColour(status: number | undefined) {
  if (status === undefined) return 'danger' as const;
  return status >= 200 && status < 300 ? ('success' as const) : ('danger' as const);
}

/**
 * Invokes a direct method on a device or module: name, JSON payload, the hub's two
 * timeouts; shows what came back and the recent calls made from Twinscope.
 */
export function MethodPanel({
  target,
  dark,
  refusal,
}: {
  target: TwinRef;
  dark: boolean;
  /** Why the operator may not invoke methods here (the policy's reason); the list still shows. */
  refusal?: string;
}) {
  const canInvoke = refusal === undefined;
  const [methodName, setMethodName] = useState('');
  const [payload, setPayload] = useState('{}\n');
  const [responseTimeout, setResponseTimeout] = useState('30');
  const [connectTimeout, setConnectTimeout] = useState('0');
  const [answer, setAnswer] = useState<MethodInvokeResponse & { methodName: string }>();
  const invoke = useInvokeMethod(target);
  const recent = useInvocations(target);
  const parsed = useMemo(() => parsePayload(payload), [payload]);
  const markers: EditorMarker[] = parsed.ok
    ? []
    : [
        {
          message: parsed.message,
          ...(parsed.offset !== undefined ? { offset: parsed.offset } : {}),
        },
      ];
  const response = Number(responseTimeout);
  const connect = Number(connectTimeout);
  // IoT Hub's name rule, as the contract states it (the BFF checks the same).
  const nameCheck = MethodNameSchema.safeParse(methodName);
  const problem = !nameCheck.success
    ? methodName
      ? nameCheck.error.issues[0]?.message
      : undefined
    : !parsed.ok
      ? parsed.message
      : !(Number.isInteger(response) && response >= 5 && response <= 300)
        ? 'The response timeout is 5 to 300 seconds.'
        : !(Number.isInteger(connect) && connect >= 0 && connect <= 300)
          ? 'The connect timeout is 0 to 300 seconds.'
          : undefined;
  const ready = canInvoke && methodName !== '' && problem === undefined && !invoke.isPending;

  const run = () => {
    if (!ready || !parsed.ok) return;
    setAnswer(undefined);
    invoke.mutate(
      {
        methodName,
        payload: parsed.value,
        responseTimeoutInSeconds: response,
        connectTimeoutInSeconds: connect,
      },
      { onSuccess: (result) => setAnswer({ ...result, methodName }) },
    );
  };

  const names = [...new Set(recent.data?.invocations.map((i) => i.methodName) ?? [])];
  return (
    <section className="method-panel" aria-label="Direct methods" data-testid="method-panel">
      <div className="method-form">
        <Field
          label="Method name"
          validationMessage={problem}
          validationState={problem ? 'error' : 'none'}
        >
          <Input
            value={methodName}
            onChange={(_e, d) => setMethodName(d.value.trim())}
            onKeyDown={(event) => event.key === 'Enter' && run()}
            list={`methods-${target.deviceId}-${target.moduleId ?? ''}`}
            placeholder="reboot"
          />
        </Field>
        <datalist id={`methods-${target.deviceId}-${target.moduleId ?? ''}`}>
          {names.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <Field label="Response timeout (s)">
          <Input
            type="number"
            min={5}
            max={300}
            value={responseTimeout}
            onChange={(_e, d) => setResponseTimeout(d.value)}
          />
        </Field>
        <Field label="Connect timeout (s)">
          <Input
            type="number"
            min={0}
            max={300}
            value={connectTimeout}
            onChange={(_e, d) => setConnectTimeout(d.value)}
          />
        </Field>
        <Tooltip
          content={refusal ?? 'Invoke (Ctrl+Enter in the payload)'}
          relationship="description"
        >
          <Button appearance="primary" disabled={!ready} onClick={run}>
            {invoke.isPending ? <Spinner size="tiny" label="Waiting for the device…" /> : 'Invoke'}
          </Button>
        </Tooltip>
      </div>
      <Text size={200} className="muted">
        Payload (JSON, up to 128 KB; empty sends null)
      </Text>
      <Suspense fallback={<Spinner label="Loading editor…" />}>
        <JsonEditor
          value={payload}
          onChange={setPayload}
          onRun={run}
          markers={markers}
          dark={dark}
          ariaLabel="Method payload"
          testId="method-payload"
          compact
        />
      </Suspense>
      {invoke.error && (
        <MessageBar intent="error" data-testid="method-error">
          <MessageBarBody>
            <MessageBarTitle>No answer</MessageBarTitle>
            {invoke.error.message}
          </MessageBarBody>
        </MessageBar>
      )}
      {answer && (
        <div className="method-result" data-testid="method-result">
          <Text>
            <strong>{answer.methodName}</strong> answered{' '}
            <Badge color={statusColour(answer.status)} data-testid="method-status">
              {answer.status}
            </Badge>{' '}
            <span className="muted">in {answer.durationMs} ms</span>
          </Text>
          <pre data-testid="method-response">{JSON.stringify(answer.payload, null, 2)}</pre>
        </div>
      )}
      <h3>Recent calls from Twinscope</h3>
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
    </section>
  );
}
