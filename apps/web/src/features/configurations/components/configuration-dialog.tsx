import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Textarea,
} from '@fluentui/react-components';
import type { ConfigurationInput } from '@twinscope/contract';
import { useState } from 'react';
import { devicePath, Link } from '../../../lib/router.tsx';
import { usePreview, useSaveConfiguration } from '../api/configurations.ts';
import { contentFromText, linesFromRecord, recordFromLines } from '../form-model.ts';

const EXAMPLE_CONTENT = '{\n  "properties.desired.telemetry": { "intervalSeconds": 30 }\n}';

/**
 * Creates a configuration, or changes one (its priority, target condition, labels and
 * metrics: IoT Hub keeps content fixed). The target condition can be previewed: how many
 * twins it selects now, and some of them.
 */
export function ConfigurationDialog({
  editing,
  onClose,
}: {
  /** The configuration being changed; none to create one. */
  editing?: ConfigurationInput;
  onClose(): void;
}) {
  const [id, setId] = useState(editing?.id ?? '');
  const [kind, setKind] = useState<'device' | 'module'>(editing?.kind ?? 'device');
  const [priority, setPriority] = useState(String(editing?.priority ?? 10));
  const [condition, setCondition] = useState(editing?.targetCondition ?? '');
  const [labels, setLabels] = useState(linesFromRecord(editing?.labels ?? {}, '='));
  const [metrics, setMetrics] = useState(linesFromRecord(editing?.metrics ?? {}, ':'));
  const [content, setContent] = useState(
    editing ? JSON.stringify(editing.content, null, 2) : EXAMPLE_CONTENT,
  );
  const [problem, setProblem] = useState<string>();
  const save = useSaveConfiguration(onClose);
  const preview = usePreview();

  const submit = () => {
    const parsedLabels = recordFromLines(labels, '=');
    const parsedMetrics = recordFromLines(metrics, ':');
    const parsedContent = contentFromText(content);
    const wrong = [parsedLabels, parsedMetrics, parsedContent].find((p) => !p.ok);
    const number = Number(priority);
    if (wrong && !wrong.ok) return setProblem(wrong.error);
    if (!Number.isInteger(number) || number < 0)
      return setProblem('The priority is a whole number from 0 (higher wins).');
    setProblem(undefined);
    save.mutate({
      id: id.trim(),
      kind,
      priority: number,
      targetCondition: condition.trim(),
      labels: parsedLabels.ok ? parsedLabels.value : {},
      metrics: parsedMetrics.ok ? parsedMetrics.value : {},
      content: parsedContent.ok ? parsedContent.value : {},
      ...(editing ? { etag: editing.etag! } : {}),
    });
  };

  return (
    <Dialog open onOpenChange={(_e, data) => (data.open ? undefined : onClose())}>
      <DialogSurface>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
          data-testid="configuration-form"
        >
          <DialogBody>
            <DialogTitle>
              {editing ? `Change ${editing.id}` : 'New automatic configuration'}
            </DialogTitle>
            <DialogContent className="form-grid">
              <Field label="ID" hint="Lower-case letters, digits and -+%_*!'" required>
                <Input value={id} onChange={(_e, d) => setId(d.value)} disabled={!!editing} />
              </Field>
              <Field label="Configures">
                <Select
                  value={kind}
                  disabled={!!editing}
                  onChange={(_e, d) => setKind(d.value as 'device' | 'module')}
                >
                  <option value="device">Device twins</option>
                  <option value="module">Module twins</option>
                </Select>
              </Field>
              <Field
                label="Priority"
                hint="Higher wins where two configurations set the same property."
              >
                <Input
                  type="number"
                  min={0}
                  value={priority}
                  onChange={(_e, d) => setPriority(d.value)}
                />
              </Field>
              <Field
                label="Target condition"
                hint={
                  kind === 'device'
                    ? "A WHERE clause on device twins, as tags.site = 'lyon'; * for every device."
                    : "FROM devices.modules WHERE moduleId = 'telemetry'"
                }
              >
                <Textarea value={condition} onChange={(_e, d) => setCondition(d.value)} />
              </Field>
              <div className="action-row">
                <Button
                  onClick={() => preview.mutate({ kind, targetCondition: condition })}
                  disabled={preview.isPending}
                >
                  Preview targets
                </Button>
                {preview.isPending && <Spinner size="tiny" label="Asking the hub…" />}
              </div>
              {preview.error && (
                <MessageBar intent="error">
                  <MessageBarBody>{preview.error.message}</MessageBarBody>
                </MessageBar>
              )}
              {preview.data && (
                <div data-testid="configuration-preview">
                  <strong>{preview.data.count.toLocaleString()}</strong>{' '}
                  {kind === 'device' ? 'devices' : 'modules'} match now
                  {preview.data.sample.length > 0 && ', for example: '}
                  {preview.data.sample.map((s, i) => (
                    <span key={`${s.deviceId}/${s.moduleId ?? ''}`}>
                      {i > 0 && ', '}
                      <Link to={devicePath(s.deviceId, s.moduleId)}>
                        {s.moduleId ? `${s.deviceId}/${s.moduleId}` : s.deviceId}
                      </Link>
                    </span>
                  ))}
                </div>
              )}
              <Field
                label="Content"
                hint={
                  editing
                    ? 'IoT Hub keeps a configuration’s content fixed: create a new one to change it.'
                    : 'properties.desired or properties.desired.<path> → the value set there.'
                }
              >
                <Textarea
                  value={content}
                  onChange={(_e, d) => setContent(d.value)}
                  disabled={!!editing}
                  rows={6}
                  className="mono"
                />
              </Field>
              <Field label="Labels" hint="One name=value a line.">
                <Textarea value={labels} onChange={(_e, d) => setLabels(d.value)} />
              </Field>
              <Field
                label="Custom metrics"
                hint="Up to five name: SELECT deviceId FROM devices WHERE … lines."
              >
                <Textarea value={metrics} onChange={(_e, d) => setMetrics(d.value)} rows={3} />
              </Field>
              {(problem || save.error) && (
                <MessageBar intent="error" data-testid="configuration-error">
                  <MessageBarBody>{problem ?? save.error?.message}</MessageBarBody>
                </MessageBar>
              )}
            </DialogContent>
            <DialogActions>
              <Button onClick={onClose}>Cancel</Button>
              <Button type="submit" appearance="primary" disabled={save.isPending}>
                {save.isPending ? 'Saving…' : editing ? 'Save changes' : 'Create'}
              </Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
