import {
  Badge,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { PnpInterface, Twin, TwinRef } from '@twinscope/contract';
import { useState, type FormEvent, type ReactElement } from 'react';
import { useModel } from '../api/get-model.ts';
import { useRunCommand, useSetWritable } from '../api/pnp-actions.ts';
import {
  commandName,
  componentsOf,
  reportedValue,
  schemaText,
  unitText,
  valueOf,
  writablePatch,
  writableState,
  type ComponentView,
} from '../pnp-model.ts';

/** A value as read: text as it is, a long fraction to three places, the rest as JSON. */
const show = (value: unknown) =>
  value === undefined
    ? '—'
    : typeof value === 'string'
      ? value
      : typeof value === 'number' && !Number.isInteger(value)
        ? String(Number(value.toFixed(3)))
        : JSON.stringify(value);

/** A control with the policy's reason beside it when the operator may not use it. */
function Refusable({ refusal, children }: { refusal: string | undefined; children: ReactElement }) {
  return refusal === undefined ? (
    children
  ) : (
    <Tooltip content={refusal} relationship="description">
      {children}
    </Tooltip>
  );
}

function WritableRow({
  target,
  twin,
  component,
  property,
  refusal,
}: {
  target: TwinRef;
  twin: Twin;
  component: string | undefined;
  property: PnpInterface['properties'][number];
  refusal: string | undefined;
}) {
  const state = writableState(twin, component, property.name);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const set = useSetWritable(target);
  const label = property.displayName ?? property.name;
  const unit = unitText(property.unit);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = valueOf(property.schema, text);
    if ('error' in parsed) return setProblem(parsed.error);
    setProblem(undefined);
    set.mutate({
      etag: twin.etag,
      desired: writablePatch(component, property.name, parsed.value),
    });
  };
  const badge =
    state.kind === 'applied' ? (
      <Badge color="success" appearance="tint">
        Applied: {show(state.desired)}
        {unit ? ` ${unit}` : ''}
      </Badge>
    ) : state.kind === 'pending' ? (
      <Badge color="warning" appearance="tint">
        Pending: {show(state.desired)}
        {unit ? ` ${unit}` : ''} (asked in desired version {state.since})
      </Badge>
    ) : state.kind === 'refused' ? (
      <Badge color="danger" appearance="tint">
        Refused ({state.status}){state.description ? `: ${state.description}` : ''}
      </Badge>
    ) : (
      <Badge color="informative" appearance="tint">
        Not set{state.reported !== undefined ? `; the device reports ${show(state.reported)}` : ''}
      </Badge>
    );
  return (
    <form className="pnp-row" onSubmit={submit} aria-label={`Set ${label}`}>
      <Field
        label={`${label}${unit ? ` (${unit})` : ''}`}
        hint={schemaText(property.schema)}
        validationMessage={problem ?? (set.isError ? set.error.message : undefined)}
      >
        <Input value={text} onChange={(_, d) => setText(d.value)} />
      </Field>
      <Refusable refusal={refusal}>
        <Button type="submit" disabled={refusal !== undefined || set.isPending || !text.trim()}>
          {set.isPending ? 'Setting…' : 'Set'}
        </Button>
      </Refusable>
      <span data-testid={`pnp-state-${component ?? ''}-${property.name}`}>{badge}</span>
      {state.kind === 'applied' && state.description && (
        <Text size={200} className="muted">
          {state.description}
        </Text>
      )}
    </form>
  );
}

function CommandRow({
  target,
  component,
  command,
  refusal,
}: {
  target: TwinRef;
  component: string | undefined;
  command: PnpInterface['commands'][number];
  refusal: string | undefined;
}) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const run = useRunCommand(target);
  const label = command.displayName ?? command.name;
  const request = command.request;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    let payload = null;
    if (request && text.trim()) {
      const parsed = valueOf(request.schema, text);
      if ('error' in parsed) return setProblem(parsed.error);
      payload = parsed.value;
    }
    setProblem(undefined);
    run.mutate({ methodName: commandName(component, command.name), payload });
  };
  return (
    <form className="pnp-row" onSubmit={submit} aria-label={`Run ${label}`}>
      {request ? (
        <Field
          label={`${label}: ${request.displayName ?? request.name}`}
          hint={`${schemaText(request.schema)}${command.description ? ` · ${command.description}` : ''}`}
          validationMessage={problem}
        >
          <Input value={text} onChange={(_, d) => setText(d.value)} />
        </Field>
      ) : (
        <Text>{label}</Text>
      )}
      <Refusable refusal={refusal}>
        <Button type="submit" disabled={refusal !== undefined || run.isPending}>
          {run.isPending ? 'Running…' : 'Run'}
        </Button>
      </Refusable>
      {run.isError && (
        <Text className="pnp-error" role="alert">
          {run.error.message}
        </Text>
      )}
      {run.data && (
        <pre
          className="pnp-response"
          data-testid={`pnp-response-${component ?? ''}-${command.name}`}
        >
          {`status ${run.data.status}\n${JSON.stringify(run.data.payload, null, 2)}`}
        </pre>
      )}
    </form>
  );
}

function Component({
  target,
  twin,
  view,
  writeRefusal,
  invokeRefusal,
}: {
  target: TwinRef;
  twin: Twin;
  view: ComponentView;
  writeRefusal: string | undefined;
  invokeRefusal: string | undefined;
}) {
  const { telemetry, properties, commands } = view.interface;
  const readOnly = properties.filter((p) => !p.writable);
  const writable = properties.filter((p) => p.writable);
  return (
    <section className="pnp-component" aria-label={view.title}>
      <h3>{view.title}</h3>
      {telemetry.length > 0 && (
        <p className="muted">
          Telemetry:{' '}
          {telemetry
            .map(
              (t) =>
                `${t.displayName ?? t.name} (${schemaText(t.schema)}${t.unit ? `, ${unitText(t.unit)}` : ''})`,
            )
            .join(' · ')}
        </p>
      )}
      {readOnly.length > 0 && (
        <table className="pnp-properties">
          <caption className="visually-hidden">Reported properties of {view.title}</caption>
          <tbody>
            {readOnly.map((p) => (
              <tr key={p.name}>
                <th scope="row">{p.displayName ?? p.name}</th>
                <td data-testid={`pnp-reported-${view.name ?? ''}-${p.name}`}>
                  {show(reportedValue(twin, view.name, p.name))}
                  {p.unit ? ` ${unitText(p.unit)}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {writable.map((p) => (
        <WritableRow
          key={p.name}
          target={target}
          twin={twin}
          component={view.name}
          property={p}
          refusal={writeRefusal}
        />
      ))}
      {commands.map((c) => (
        <CommandRow
          key={c.name}
          target={target}
          component={view.name}
          command={c}
          refusal={invokeRefusal}
        />
      ))}
    </section>
  );
}

/**
 * A Plug and Play device's model, as forms: each component with its telemetry (schema and
 * unit), its reported properties, its writable properties (the desired patch the convention
 * prescribes, and the device's acknowledgement) and its commands (`component*command`).
 * Nothing shows for a device that announced no model.
 */
export function PnpPanel({
  target,
  twin,
  writeRefusal,
  invokeRefusal,
}: {
  target: TwinRef;
  twin: Twin;
  writeRefusal: string | undefined;
  invokeRefusal: string | undefined;
}) {
  const model = useModel(target, twin.modelId || undefined);
  if (!twin.modelId) return null;
  return (
    <section className="pnp-panel" aria-label="Plug and Play" data-testid="pnp-panel">
      <h2>Plug and Play</h2>
      {model.isPending && <Spinner size="tiny" label="Reading the device's model…" />}
      {model.isError && (
        <MessageBar intent="warning">
          <MessageBarBody>
            {twin.modelId}: {model.error.message}
          </MessageBarBody>
        </MessageBar>
      )}
      {model.data && (
        <>
          <Text size={200} className="muted">
            {model.data.modelId} (DTDL v{model.data.model.dtdlVersion}){' '}
            {model.data.repository ? `from ${model.data.repository}` : ''}
          </Text>
          {componentsOf(model.data.model).map((view) => (
            <Component
              key={view.name ?? ''}
              target={target}
              twin={twin}
              view={view}
              writeRefusal={writeRefusal}
              invokeRefusal={invokeRefusal}
            />
          ))}
        </>
      )}
    </section>
  );
}
