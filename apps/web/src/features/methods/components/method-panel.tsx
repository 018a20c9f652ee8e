import {
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
import type { MethodInvokeResponse, TwinRef } from '@twinscope/contract';
import { lazy, Suspense, useMemo, useState } from 'react';
import type { EditorMarker } from '../../../components/monaco.tsx';
import { useInvocations } from '../api/get-invocations.ts';
import { useInvokeMethod } from '../api/invoke-method.ts';
import { checkMethodCall, parsePayload } from '../method-call.ts';
import { MethodAnswer } from './method-answer.tsx';
import { RecentCalls } from './recent-calls.tsx';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

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
  const { problem, request } = checkMethodCall(
    { methodName, responseTimeout, connectTimeout },
    parsed,
  );
  const ready = canInvoke && request !== undefined && !invoke.isPending;

  const run = () => {
    if (!ready || !request) return;
    setAnswer(undefined);
    invoke.mutate(request, {
      onSuccess: (result) => setAnswer({ ...result, methodName: request.methodName }),
    });
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
      {answer && <MethodAnswer answer={answer} />}
      <h3>Recent calls from Twinscope</h3>
      <RecentCalls recent={recent} />
    </section>
  );
}
