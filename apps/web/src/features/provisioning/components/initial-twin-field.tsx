import {
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { lazy, Suspense, useMemo } from 'react';
import type { EditorMarker } from '../../../components/monaco.tsx';
import { describeProblem, type InitialTwinCheck } from '../initial-twin.ts';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

/**
 * The initial twin in the console's JSON editor, as a twin document (tags and
 * properties.desired), with what breaks IoT Hub's twin rules marked where it is and listed.
 */
export function InitialTwinField({
  text,
  check,
  dark,
  readOnly,
  onChange,
  onSave,
}: {
  text: string;
  /** The text read back and checked (by the form, which also needs it to save). */
  check: InitialTwinCheck;
  dark: boolean;
  readOnly: boolean;
  onChange(text: string): void;
  onSave(): void;
}) {
  const markers: EditorMarker[] = useMemo(
    () =>
      check.ok
        ? []
        : check.problems.map(({ message, location, offset }) => ({
            message,
            ...(location ? { location } : {}),
            ...(offset !== undefined ? { offset } : {}),
          })),
    [check],
  );
  return (
    <div className="initial-twin form-grid">
      <div className="field">
        <Text weight="semibold">Initial twin</Text>
        <Text size={200} className="muted">
          What each device&apos;s twin starts from when DPS assigns it: tags and desired properties,
          checked against IoT Hub&apos;s twin rules as you type.
        </Text>
      </div>
      <Suspense fallback={<Spinner size="tiny" label="Loading the editor…" />}>
        <JsonEditor
          value={text}
          onChange={onChange}
          onSave={onSave}
          markers={markers}
          dark={dark}
          ariaLabel="Initial twin"
          testId="initial-twin-editor"
          compact
          readOnly={readOnly}
        />
      </Suspense>
      {!check.ok && (
        <MessageBar intent="error" data-testid="initial-twin-problems">
          <MessageBarBody>
            <MessageBarTitle>The initial twin cannot be saved</MessageBarTitle>
            {describeProblem(check.problems[0]!)}
            {check.problems.length > 1 && ` (and ${check.problems.length - 1} more)`}
          </MessageBarBody>
        </MessageBar>
      )}
    </div>
  );
}
