import { Button, Field, Input, MessageBar, MessageBarBody } from '@fluentui/react-components';
import type { OverviewSettings } from '@twinscope/contract';
import { useState, type FormEvent } from 'react';
import { useSaveOverviewSettings } from '../api/save-overview-settings.ts';
import { keysFromText } from '../overview-model.ts';

/** What the team's overview groups by and which desired keys it checks (Operators). */
export function OverviewSettingsForm({
  settings,
  onDone,
}: {
  settings: OverviewSettings;
  onDone: () => void;
}) {
  const [tag, setTag] = useState(settings.tag);
  const [keys, setKeys] = useState(settings.driftKeys.join(', '));
  const [moduleKeys, setModuleKeys] = useState(settings.moduleDriftKeys.join(', '));
  const save = useSaveOverviewSettings();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      {
        tag: tag.trim().replace(/^tags\./, ''),
        driftKeys: keysFromText(keys),
        moduleDriftKeys: keysFromText(moduleKeys),
      },
      { onSuccess: onDone },
    );
  };
  return (
    <form className="overview-settings" onSubmit={submit} aria-label="What the overview shows">
      <Field label="Group the fleet by tag" hint="A tag path, e.g. site or owner.team">
        <Input value={tag} onChange={(_, d) => setTag(d.value)} required />
      </Field>
      <Field
        label="Desired keys to check against reported"
        hint="Up to three, comma-separated, e.g. firmware.version"
      >
        <Input value={keys} onChange={(_, d) => setKeys(d.value)} />
      </Field>
      <Field
        label="Desired keys to check on module twins"
        hint="Up to three, e.g. sendIntervalSeconds (an IoT Edge module's settings)"
      >
        <Input value={moduleKeys} onChange={(_, d) => setModuleKeys(d.value)} />
      </Field>
      {save.isError && (
        <MessageBar intent="error">
          <MessageBarBody>{save.error.message}</MessageBarBody>
        </MessageBar>
      )}
      <div className="section-head">
        <Button type="submit" appearance="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save for the team'}
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}
