import {
  Button,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { EdgeOverview } from '@twinscope/contract';
import { lazy, Suspense, useMemo, useState } from 'react';
import { ApiError } from '../../../lib/api-client.ts';
import { useSetModules } from '../api/set-modules.ts';
import { checkManifestText } from '../manifest-text.ts';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

/**
 * "Set modules": the device's deployment manifest in the editor, starting from what is
 * deployed, checked as it is typed and sent whole; the hub's refusals are listed.
 */
export function SetModules({
  deviceId,
  overview,
  dark,
  onDone,
}: {
  deviceId: string;
  overview: EdgeOverview;
  dark: boolean;
  onDone(): void;
}) {
  const [text, setText] = useState(() => `${JSON.stringify(overview.manifest, null, 2)}\n`);
  const setModules = useSetModules(deviceId);
  const checked = useMemo(() => checkManifestText(text), [text]);
  const ready = checked.problems.length === 0 && !setModules.isPending;
  const send = () => {
    if (!ready || !checked.value) return;
    setModules.mutate(checked.value, { onSuccess: onDone });
  };
  const failure = setModules.error instanceof ApiError ? setModules.error : undefined;
  return (
    <section className="edge-set-modules" aria-label="Set modules" data-testid="edge-set-modules">
      <Text size={200} className="muted">
        The deployment manifest for this device: <code>$edgeAgent</code> (runtime and modules),{' '}
        <code>$edgeHub</code> (routes) and each module&apos;s desired properties. It is checked as
        you type; Ctrl+S sends it.
      </Text>
      <Suspense fallback={<Spinner size="tiny" label="Loading the editor…" />}>
        <JsonEditor
          value={text}
          onChange={setText}
          onSave={send}
          markers={checked.markers}
          dark={dark}
          ariaLabel="Deployment manifest"
          testId="edge-manifest-editor"
        />
      </Suspense>
      {checked.problems.length > 0 && (
        <MessageBar intent="warning" data-testid="edge-manifest-problems">
          <MessageBarBody>
            <MessageBarTitle>Not sent: fix these first</MessageBarTitle>
            <ul>
              {checked.problems.slice(0, 8).map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </MessageBarBody>
        </MessageBar>
      )}
      {setModules.error && (
        <MessageBar intent="error">
          <MessageBarBody>
            {setModules.error.message}
            {failure && failure.violations.length > 1 && (
              <ul>
                {failure.violations.slice(0, 8).map((v) => (
                  <li key={v.path}>
                    {v.path}: {v.message}
                  </li>
                ))}
              </ul>
            )}
          </MessageBarBody>
        </MessageBar>
      )}
      <div className="row-actions">
        <Button appearance="primary" disabled={!ready} onClick={send}>
          {setModules.isPending ? 'Sending…' : 'Send deployment'}
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </section>
  );
}
