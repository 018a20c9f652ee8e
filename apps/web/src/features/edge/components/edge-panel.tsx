import {
  Badge,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Switch,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import {
  checkDeploymentManifest,
  ModuleLogsQuerySchema,
  type EdgeModule,
  type EdgeOverview,
  type PolicyAction,
  type SetModulesRequest,
} from '@twinscope/contract';
import { lazy, Suspense, useMemo, useState } from 'react';
import type { EditorMarker } from '../../../components/monaco.tsx';
import { ApiError } from '../../../lib/api-client.ts';
import { relativeTime } from '../../../lib/format.ts';
import { parseJsonText } from '../../../lib/json-text.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useEdgeOverview, useModuleLogs, useRestartModule, useSetModules } from '../api/edge.ts';

const JsonEditor = lazy(() =>
  import('../../../components/monaco.tsx').then((m) => ({ default: m.JsonEditor })),
);

const STATE_COLOUR = {
  running: 'success',
  stopped: 'informative',
  pending: 'warning',
  removing: 'warning',
  failed: 'danger',
} as const;

const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'];

/** What the panel does on an IoT Edge device, by the policy's names. */
export type EdgeAction = Extract<PolicyAction, `edge.${string}`>;

function ModuleRow({
  module,
  logsRefusal,
  restartRefusal,
  onLogs,
  onRestart,
  restarting,
}: {
  module: EdgeModule;
  logsRefusal: string | undefined;
  restartRefusal: string | undefined;
  onLogs(): void;
  onRestart(): void;
  restarting: boolean;
}) {
  const reported = module.reported;
  const imageDiffers = module.desired && reported?.image && reported.image !== module.desired.image;
  return (
    <tr data-testid={`edge-module-${module.name}`}>
      <td>
        {module.name}
        {module.system && (
          <Badge size="small" appearance="outline">
            system
          </Badge>
        )}
      </td>
      <td>
        <Badge color={STATE_COLOUR[module.state]} data-testid="edge-module-state">
          {module.state}
        </Badge>{' '}
        <span className="muted">
          {reported ? reported.runtimeStatus : 'not reported'}
          {module.desired ? ` (wants ${module.desired.status})` : ' (no longer deployed)'}
        </span>
      </td>
      <td>
        {module.desired?.image ?? reported?.image ?? '—'}
        {imageDiffers && <div className="muted">runs {reported.image}</div>}
      </td>
      <td data-testid="edge-module-restarts">{reported?.restartCount ?? '—'}</td>
      <td>
        {reported?.exitCode !== undefined ? `code ${reported.exitCode}` : '—'}
        {reported?.lastExitTimeUtc && (
          <div className="muted" title={reported.lastExitTimeUtc}>
            {relativeTime(reported.lastExitTimeUtc)}
          </div>
        )}
      </td>
      <td className="edge-description" data-testid="edge-module-description">
        {reported?.statusDescription && reported.statusDescription !== 'running'
          ? reported.statusDescription
          : module.state === 'failed' && reported?.exitCode !== undefined
            ? `Crash-looping: running again after exiting with code ${reported.exitCode} ${relativeTime(reported.lastExitTimeUtc)}, ${reported.restartCount} restarts so far.`
            : ''}
      </td>
      <td>
        <div className="row-actions">
          <Tooltip content={logsRefusal ?? `Read ${module.name}'s logs`} relationship="description">
            <Button size="small" disabled={logsRefusal !== undefined} onClick={onLogs}>
              Logs
            </Button>
          </Tooltip>
          {module.name !== 'edgeAgent' && module.desired && (
            <Tooltip
              content={restartRefusal ?? `Restart ${module.name} through the Edge agent`}
              relationship="description"
            >
              <Button
                size="small"
                disabled={restartRefusal !== undefined || restarting}
                onClick={onRestart}
                aria-label={`Restart ${module.name}`}
              >
                {restarting ? 'Restarting…' : 'Restart'}
              </Button>
            </Tooltip>
          )}
        </div>
      </td>
    </tr>
  );
}

function LogViewer({
  deviceId,
  module,
  onClose,
}: {
  deviceId: string;
  module: string;
  onClose(): void;
}) {
  const [tailText, setTailText] = useState('200');
  const [filter, setFilter] = useState('');
  const [since, setSince] = useState('');
  const sinceOk = since === '' || ModuleLogsQuerySchema.shape.since.safeParse(since).success;
  const [follow, setFollow] = useState(true);
  const tail = Number(tailText);
  const tailOk = Number.isInteger(tail) && tail >= 1 && tail <= 5000;
  let filterProblem: string | undefined;
  try {
    new RegExp(filter);
  } catch {
    filterProblem = 'Not a regular expression.';
  }
  const query = {
    tail: tailOk ? tail : 200,
    ...(filter && !filterProblem ? { filter } : {}),
    ...(since && sinceOk ? { since } : {}),
  };
  const logs = useModuleLogs(deviceId, module, query, follow);
  return (
    <section className="edge-logs" aria-label={`Logs of ${module}`} data-testid="edge-logs">
      <div className="section-head">
        <h3>Logs of {module}</h3>
        <Button size="small" onClick={onClose}>
          Close
        </Button>
      </div>
      <div className="edge-logs-form">
        <Field
          label="Last lines"
          validationState={tailOk ? 'none' : 'error'}
          validationMessage={tailOk ? undefined : '1 to 5000 lines.'}
        >
          <Input type="number" value={tailText} onChange={(_e, d) => setTailText(d.value)} />
        </Field>
        <Field
          label="Only lines matching"
          validationState={filterProblem ? 'error' : 'none'}
          validationMessage={filterProblem}
        >
          <Input
            value={filter}
            onChange={(_e, d) => setFilter(d.value)}
            placeholder="error|warn"
            aria-label="Log filter"
          />
        </Field>
        <Field
          label="Since"
          validationState={sinceOk ? 'none' : 'error'}
          validationMessage={sinceOk ? undefined : 'A duration (15m, 2h, 1d) or a time.'}
        >
          <Input
            value={since}
            onChange={(_e, d) => setSince(d.value.trim())}
            placeholder="15m"
            aria-label="Logs since"
          />
        </Field>
        <Switch checked={follow} onChange={(_e, d) => setFollow(d.checked)} label="Follow" />
      </div>
      {logs.isPending ? (
        <Spinner size="tiny" label="Asking the Edge agent for logs…" />
      ) : logs.isError ? (
        <MessageBar intent="error">
          <MessageBarBody>{logs.error.message}</MessageBarBody>
        </MessageBar>
      ) : logs.data.lines.length === 0 ? (
        <Text className="muted">No lines{filter ? ' match' : ' yet'}.</Text>
      ) : (
        <pre className="edge-log-lines" data-testid="edge-log-lines">
          {logs.data.lines
            .map((line) => `${line.at}  ${LEVEL_NAMES[line.level] ?? line.level}  ${line.text}`)
            .join('\n')}
        </pre>
      )}
    </section>
  );
}

function SetModules({
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
  const checked = useMemo(() => {
    const parsed = parseJsonText(text, 'The manifest');
    if (!parsed.ok)
      return {
        markers: [
          {
            message: parsed.message,
            ...(parsed.offset !== undefined ? { offset: parsed.offset } : {}),
          },
        ] as EditorMarker[],
        problems: [parsed.message],
      };
    const problems = checkDeploymentManifest(parsed.value);
    return {
      value: parsed.value as SetModulesRequest,
      markers: problems.map((p) => ({ location: p.location, message: p.message })),
      problems: problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)),
    };
  }, [text]);
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

/**
 * An IoT Edge device's runtime: each module deployed against what the agent reports, the
 * deployment's state in words, restart and logs, Set modules, the automatic deployments
 * that target it, and the devices above and below it.
 */
export function EdgePanel({
  deviceId,
  dark,
  refusalOf,
}: {
  deviceId: string;
  dark: boolean;
  /** Why the operator may not take an action on this device (the policy's reason), or nothing. */
  refusalOf: (action: EdgeAction) => string | undefined;
}) {
  const overview = useEdgeOverview(deviceId);
  const restart = useRestartModule(deviceId);
  const [logsOf, setLogsOf] = useState<string>();
  const [editing, setEditing] = useState(false);
  const logsRefusal = refusalOf('edge.logs');
  const restartRefusal = refusalOf('edge.restart-module');
  const deployRefusal = refusalOf('edge.set-modules');
  if (overview.isPending) return <Spinner size="tiny" label="Reading the Edge agent's report…" />;
  if (overview.isError)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{overview.error.message}</MessageBarBody>
      </MessageBar>
    );
  const data = overview.data;
  const { deployment, runtime } = data;
  const intent = deployment.healthy
    ? 'success'
    : deployment.status && deployment.status.code !== 200
      ? 'error'
      : data.modules.some((m) => m.state === 'failed')
        ? 'error'
        : 'warning';
  return (
    <section className="edge-panel" aria-label="IoT Edge" data-testid="edge-panel">
      <div className="row-actions">
        <Badge color={runtime.connected ? 'success' : 'subtle'} data-testid="edge-runtime-state">
          {runtime.connected ? 'Runtime connected' : 'Runtime offline'}
        </Badge>
        {runtime.version && <Text className="muted">agent {runtime.version}</Text>}
        {runtime.lastActivityTime && (
          <Text className="muted" title={runtime.lastActivityTime}>
            last seen {relativeTime(runtime.lastActivityTime)}
          </Text>
        )}
        <Text className="muted">
          deployment version {deployment.desiredVersion}
          {deployment.reportedVersion !== undefined && `, agent at ${deployment.reportedVersion}`}
        </Text>
      </div>
      <MessageBar intent={intent} data-testid="edge-deployment-summary">
        <MessageBarBody>{deployment.summary}</MessageBarBody>
      </MessageBar>
      {(data.parents.length > 0 || data.children.length > 0) && (
        <div className="edge-hierarchy" data-testid="edge-hierarchy">
          {data.parents.length > 0 && (
            <Text>
              Parent:{' '}
              {data.parents.map((parent) => (
                <Link key={parent} to={devicePath(parent)}>
                  {parent}
                </Link>
              ))}
            </Text>
          )}
          {data.children.length > 0 && (
            <Text>
              Children:{' '}
              {data.children.map((child, index) => (
                <span key={child.deviceId}>
                  {index > 0 && ', '}
                  <Link to={devicePath(child.deviceId)}>{child.deviceId}</Link>
                  {child.iotEdge && ' (IoT Edge)'}
                </span>
              ))}
            </Text>
          )}
        </div>
      )}
      {restart.error && (
        <MessageBar intent="error" data-testid="edge-restart-error">
          <MessageBarBody>{restart.error.message}</MessageBarBody>
        </MessageBar>
      )}
      <table className="modules-table" aria-label="IoT Edge modules" data-testid="edge-modules">
        <thead>
          <tr>
            <th>Module</th>
            <th>State</th>
            <th>Image</th>
            <th>Restarts</th>
            <th>Last exit</th>
            <th>Why</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data.modules.map((module) => (
            <ModuleRow
              key={module.name}
              module={module}
              logsRefusal={logsRefusal}
              restartRefusal={restartRefusal}
              onLogs={() => setLogsOf(module.name)}
              onRestart={() => restart.mutate(module.name)}
              restarting={restart.isPending && restart.variables === module.name}
            />
          ))}
        </tbody>
      </table>
      {logsOf && (
        <LogViewer
          key={logsOf}
          deviceId={deviceId}
          module={logsOf}
          onClose={() => setLogsOf(undefined)}
        />
      )}
      <div className="section-head">
        <h3>Deployment</h3>
        {!editing && (
          <Tooltip
            content={deployRefusal ?? 'Edit and send this device’s deployment manifest'}
            relationship="description"
          >
            <Button disabled={deployRefusal !== undefined} onClick={() => setEditing(true)}>
              Set modules
            </Button>
          </Tooltip>
        )}
      </div>
      {data.deployments.some((d) => d.status === 'Applied') && (
        <Text size={200} className="muted">
          Automatic deployments target this device: modules set here stay until one of them changes,
          or the device stops or starts matching one.
        </Text>
      )}
      {editing && (
        <SetModules
          deviceId={deviceId}
          overview={data}
          dark={dark}
          onDone={() => setEditing(false)}
        />
      )}
      {data.deployments.length === 0 ? (
        <Text className="muted">No automatic deployment targets this device.</Text>
      ) : (
        <table
          className="modules-table"
          aria-label="Automatic deployments"
          data-testid="edge-deployments"
        >
          <thead>
            <tr>
              <th>Deployment</th>
              <th>Priority</th>
              <th>Kind</th>
              <th>Status here</th>
              <th>Target condition</th>
            </tr>
          </thead>
          <tbody>
            {data.deployments.map((d) => (
              <tr key={d.id}>
                <td>
                  <Link to="/configurations">{d.id}</Link>
                </td>
                <td>{d.priority}</td>
                <td>{d.layered ? 'layered' : 'whole'}</td>
                <td>{d.status === 'Applied' ? 'applied' : 'targeted, outranked'}</td>
                <td>
                  <code>{d.targetCondition}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
