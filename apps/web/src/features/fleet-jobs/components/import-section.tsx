import { Button, Field, Spinner, Text } from '@fluentui/react-components';
import { useRef, useState, type ChangeEvent } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { byteSize } from '../../../lib/format.ts';
import { usePreviewImport } from '../api/preview-import.ts';
import { useStartImport } from '../api/start-import.ts';
import { fileProblem, lineCount, runSummary } from '../import-text.ts';
import { ImportPreviewPanel } from './import-preview.tsx';
import { JobError } from './job-error.tsx';
import { JobView } from './job-view.tsx';
import { Refusable } from './refusable.tsx';
import type { JobSectionProps } from './job-section.ts';

/** The file as chosen, read once: what is previewed is exactly what is run. */
interface ChosenFile {
  name: string;
  size: number;
  text: string;
  lines: number;
}

/**
 * Import: a JSON-lines file chosen and read in the browser, previewed against the hub as it
 * is now, then run after a confirmation; below, the import job being followed.
 */
export function ImportSection({ refusal, job, pollError, focusJob, onStarted }: JobSectionProps) {
  const [chosen, setChosen] = useState<ChosenFile>();
  const [problem, setProblem] = useState<string>();
  const [reading, setReading] = useState(false);
  const [confirming, setConfirming] = useState(false);
  // A new input each time a run starts: the picker is empty again.
  const [picker, setPicker] = useState(0);
  const latest = useRef(0);
  const preview = usePreviewImport();
  const run = useStartImport((started) => {
    setConfirming(false);
    setChosen(undefined);
    setPicker((n) => n + 1);
    preview.reset();
    onStarted(started);
  });
  const refuse = refusal !== undefined;

  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    const reading = ++latest.current;
    preview.reset();
    run.reset();
    setChosen(undefined);
    setProblem(undefined);
    if (!file) return;
    const refused = fileProblem(file);
    if (refused) {
      setProblem(refused);
      return;
    }
    setReading(true);
    file.text().then(
      (text) => {
        if (reading !== latest.current) return;
        setReading(false);
        const lines = lineCount(text);
        if (lines === 0) setProblem(`${file.name} has no lines.`);
        else setChosen({ name: file.name, size: file.size, text, lines });
      },
      (error: unknown) => {
        if (reading !== latest.current) return;
        setReading(false);
        setProblem(`${file.name} could not be read: ${(error as Error).message}`);
      },
    );
  };

  const hint = reading ? (
    <Spinner size="extra-tiny" label="Reading the file…" />
  ) : chosen ? (
    `${chosen.name} · ${byteSize(chosen.size)} · ${chosen.lines.toLocaleString()} ${chosen.lines === 1 ? 'line' : 'lines'}`
  ) : (
    'One device or module a line, as an export writes them; an importMode on a line says what to do with it.'
  );
  const counts = preview.data?.counts;

  return (
    <section className="fleet-section" aria-labelledby="import-title" data-testid="import-section">
      <h2 id="import-title">Import</h2>
      <Text className="muted">
        The hub&apos;s import job creates, updates or deletes identities from a file. Preview it
        first: nothing changes until you run it.
      </Text>
      <form
        className="export-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (chosen && !refuse && !preview.isPending) preview.mutate(chosen.text);
        }}
      >
        <Field
          key={picker}
          className="condition"
          label="Import file (JSON lines)"
          hint={hint}
          validationState={problem ? 'error' : 'none'}
          {...(problem ? { validationMessage: problem } : {})}
        >
          {(control) => (
            <input
              {...control}
              type="file"
              className="file-input"
              accept=".jsonl,.ndjson,.json,.txt,application/x-ndjson,application/json,text/plain"
              onChange={choose}
              disabled={refuse}
              data-testid="import-file"
            />
          )}
        </Field>
        <Refusable refusal={refusal}>
          <Button
            type="submit"
            appearance="primary"
            disabled={!chosen || preview.isPending}
            disabledFocusable={refuse}
          >
            Preview
          </Button>
        </Refusable>
        {preview.isPending && <Spinner size="tiny" label="Reading the hub as it is now…" />}
      </form>
      {preview.error && <JobError error={preview.error} testId="import-preview-error" />}
      {preview.data && chosen && (
        <ImportPreviewPanel
          preview={preview.data}
          refusal={refusal}
          running={run.isPending}
          onRun={() => setConfirming(true)}
        />
      )}
      {/* Always mounted: a dialog unmounted while open would leave the page hidden from
          assistive technology (its aria-hidden on the rest of the page is never undone). */}
      <ConfirmDialog
        open={confirming && counts !== undefined && chosen !== undefined}
        title={chosen ? `Run the import of ${chosen.name}?` : 'Run the import?'}
        confirmLabel="Start the import"
        pending={run.isPending}
        error={run.error}
        onConfirm={() => chosen && run.mutate(chosen.text)}
        onCancel={() => {
          setConfirming(false);
          run.reset();
        }}
        testId="confirm-import"
      >
        {(counts ? runSummary(counts) : []).map((sentence) => (
          <Text as="p" key={sentence}>
            {sentence}
          </Text>
        ))}
        <Text as="p" className="muted">
          The file is previewed again as the job starts: if the hub changed since, the job follows
          the hub as it is then.
        </Text>
      </ConfirmDialog>
      {job && <JobView job={job} pollError={pollError} focus={focusJob} />}
    </section>
  );
}
