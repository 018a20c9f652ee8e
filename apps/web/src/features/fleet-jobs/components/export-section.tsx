import { Button, Checkbox, Field, Input, Spinner, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { ApiError } from '../../../lib/api-client.ts';
import { useStartExport } from '../api/start-export.ts';
import { exportRequest } from '../export-form.ts';
import { JobError } from './job-error.tsx';
import { JobView } from './job-view.tsx';
import { Refusable } from './refusable.tsx';
import type { JobSectionProps } from './job-section.ts';

/**
 * Export: the fleet's identities, or those of the devices a condition selects, written by the
 * hub's export job and then downloaded; below, the export job being followed.
 */
export function ExportSection({ refusal, job, pollError, focusJob, onStarted }: JobSectionProps) {
  const [condition, setCondition] = useState('');
  const [includeKeys, setIncludeKeys] = useState(false);
  const start = useStartExport(onStarted);
  // The hub refused the condition (400): said under the field it is about.
  const refused =
    start.error instanceof ApiError && start.error.status === 400 ? start.error : undefined;
  const refuse = refusal !== undefined;
  return (
    <section className="fleet-section" aria-labelledby="export-title" data-testid="export-section">
      <h2 id="export-title">Export</h2>
      <Text className="muted">
        The hub&apos;s export job writes each device&apos;s identity, with its modules, as one line
        of JSON: a file that can be imported here or into another hub.
      </Text>
      <form
        className="export-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!refuse && !start.isPending) start.mutate(exportRequest(condition, includeKeys));
        }}
      >
        <Field
          className="condition"
          label="Only devices where"
          hint="An IoT Hub query condition, as in the device list's WHERE filter; empty for the whole fleet."
          validationState={refused ? 'error' : 'none'}
          {...(refused ? { validationMessage: refused.message } : {})}
        >
          <Input
            value={condition}
            onChange={(_e, data) => {
              setCondition(data.value);
              if (refused) start.reset();
            }}
            placeholder="tags.site = 'lyon'"
            className="mono-input"
            disabled={refuse}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Checkbox
          label="Include keys (the file is then a secret)"
          checked={includeKeys}
          onChange={(_e, data) => setIncludeKeys(data.checked === true)}
          disabled={refuse}
        />
        <Refusable refusal={refusal}>
          <Button
            type="submit"
            appearance="primary"
            disabled={start.isPending}
            disabledFocusable={refuse}
          >
            Export
          </Button>
        </Refusable>
        {start.isPending && <Spinner size="tiny" label="Starting the export…" />}
      </form>
      {start.error && !refused && <JobError error={start.error} testId="export-error" />}
      {job && <JobView job={job} pollError={pollError} focus={focusJob} />}
    </section>
  );
}
