import {
  Button,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Switch,
  Text,
} from '@fluentui/react-components';
import type { DeviceFilterRequest, TelemetryEvent, TwinRef } from '@twinscope/contract';
import { lazy, Suspense, useMemo, useState } from 'react';
import { useTimeline } from '../api/get-timeline.ts';
import { useLiveEvents, useWatchTelemetry, useWatchTelemetryFilter } from '../use-live.ts';
import { byEnqueued, exportName, KEPT, matches, PLOTTED } from '../telemetry-list.ts';
import { EndpointNotice } from './endpoint-notice.tsx';
import { TelemetryMessage } from './telemetry-message.tsx';
import { downloadJsonLines } from '../../../lib/download.ts';
import { fromLocalInput, toLocalInput } from '../../../lib/format.ts';
import type { FieldInfo } from './telemetry-plot.tsx';

// The plot (and its chart library) loads once a device's telemetry is plotted.
const TelemetryPlot = lazy(() =>
  import('./telemetry-plot.tsx').then((m) => ({ default: m.TelemetryPlot })),
);

/**
 * Live telemetry of a device or a module, or of every device a list filter matches: what
 * the hub's Event Hubs-compatible endpoint delivers, decoded, newest first; earlier messages
 * read back from a chosen time; pause, clear, filter by text or property, export.
 */
export function TelemetryViewer({
  target,
  filter: listFilter,
  initiallyOn = true,
  fields,
}: {
  target?: TwinRef;
  /** Names and units of telemetry fields by JSON path (a Plug and Play model's). */
  fields?: Record<string, FieldInfo>;
  /** Every device this list filter matches (and their modules). */
  filter?: DeviceFilterRequest;
  initiallyOn?: boolean;
}) {
  const [on, setOn] = useState(initiallyOn);
  const [paused, setPaused] = useState(false);
  const [plotting, setPlotting] = useState(true);
  // One device or module keeps enough for its plot; a whole list keeps what its list shows.
  const limit = target ? PLOTTED : KEPT;
  const [filter, setFilter] = useState('');
  const [messages, setMessages] = useState<TelemetryEvent[]>([]);
  const [missedWhilePaused, setMissedWhilePaused] = useState(0);
  const [dropped, setDropped] = useState<{ count: number; limit: number }>();
  const [fromInput, setFromInput] = useState(() => toLocalInput(Date.now() - 15 * 60_000));
  const [from, setFrom] = useState<string>();
  useWatchTelemetry(target ? [target] : [], on);
  const following = useWatchTelemetryFilter(listFilter ?? {}, on && listFilter !== undefined);
  const earlier = useTimeline(
    {
      deviceId: target?.deviceId ?? '',
      since: from ?? '',
      kinds: ['telemetry'],
      ...(target?.moduleId !== undefined ? { moduleId: target.moduleId } : {}),
    },
    target !== undefined && from !== undefined,
  );
  useLiveEvents((event) => {
    if (!on) return;
    if (event.type === 'telemetry') {
      if (target && (event.deviceId !== target.deviceId || event.moduleId !== target.moduleId))
        return;
      if (paused) {
        setMissedWhilePaused((n) => n + 1);
        return;
      }
      setMessages((current) => [event, ...current].slice(0, limit));
    } else if (event.type === 'telemetry-dropped') {
      setDropped((current) => ({
        count: (current?.count ?? 0) + event.dropped,
        limit: event.limitPerSecond,
      }));
    }
  });
  const all = useMemo(() => {
    const readBack = (earlier.data?.entries ?? []).flatMap((entry) =>
      entry.telemetry && entry.moduleId === target?.moduleId ? [entry.telemetry] : [],
    );
    return readBack.length > 0 ? byEnqueued(limit, messages, readBack) : messages;
  }, [messages, earlier.data, target?.moduleId, limit]);
  const shown = useMemo(() => all.filter((m) => matches(m, filter)), [all, filter]);

  const exportLines = () => downloadJsonLines(exportName(target), shown);

  return (
    <section className="method-panel" aria-label="Telemetry" data-testid="telemetry-viewer">
      <div className="action-row">
        <Switch checked={on} onChange={(_e, d) => setOn(d.checked)} label="Show telemetry" />
        <Button
          disabled={!on}
          onClick={() => {
            setPaused(!paused);
            setMissedWhilePaused(0);
          }}
        >
          {paused ? 'Resume' : 'Pause'}
        </Button>
        <Button
          onClick={() => {
            setMessages([]);
            setDropped(undefined);
            setFrom(undefined);
          }}
        >
          Clear
        </Button>
        <Input
          value={filter}
          onChange={(_e, d) => setFilter(d.value)}
          placeholder="Filter: text in the body, or property=value"
          aria-label="Filter telemetry"
        />
        <Button disabled={shown.length === 0} onClick={exportLines}>
          Export JSON lines
        </Button>
        <Text size={200} className="muted" data-testid="telemetry-count">
          {shown.length} shown{filter ? ` of ${all.length}` : ''}
        </Text>
      </div>
      {target && (
        <div className="action-row">
          <Input
            type="datetime-local"
            value={fromInput}
            onChange={(_e, d) => setFromInput(d.value)}
            aria-label="Read earlier messages from"
          />
          <Button
            disabled={!fromInput || earlier.isFetching}
            onClick={() => {
              const at = fromLocalInput(fromInput);
              if (at) setFrom(at);
            }}
          >
            Read earlier messages from this time
          </Button>
          {earlier.isFetching && <Spinner size="tiny" label="Reading the endpoint…" />}
          {earlier.data && (
            <Text size={200} className="muted" data-testid="telemetry-read-back">
              {earlier.data.entries.length} read back since{' '}
              {new Date(earlier.data.since).toLocaleString()}
              {earlier.data.complete ? '' : ' (stopped at the limit; choose a later time)'}
            </Text>
          )}
        </div>
      )}
      {earlier.error && (
        <MessageBar intent="error">
          <MessageBarBody>{earlier.error.message}</MessageBarBody>
        </MessageBar>
      )}
      {listFilter && on && following && (
        <MessageBar
          intent={following instanceof Error ? 'error' : following.capped ? 'warning' : 'info'}
          data-testid="telemetry-following"
        >
          <MessageBarBody>
            {following instanceof Error
              ? following.message
              : following.capped
                ? `The filter matches more devices than one tab follows: showing the first ${following.devices}. Narrow the filter to see the rest.`
                : `Following ${following.devices} device${following.devices === 1 ? '' : 's'} that match the filter, and their modules.`}
          </MessageBarBody>
        </MessageBar>
      )}
      {on && <EndpointNotice what="Telemetry comes" />}
      {paused && missedWhilePaused > 0 && (
        <Text className="muted">
          {missedWhilePaused} messages arrived while paused (not shown).
        </Text>
      )}
      {dropped && (
        <MessageBar intent="warning" data-testid="telemetry-dropped">
          <MessageBarBody>
            {dropped.count} messages were not shown: this tab receives at most {dropped.limit} a
            second.
          </MessageBarBody>
        </MessageBar>
      )}
      {target && shown.length > 0 && (
        <Switch
          checked={plotting}
          onChange={(_e, d) => setPlotting(d.checked)}
          label="Plot numeric fields"
        />
      )}
      {target && plotting && shown.length > 0 && (
        <Suspense fallback={<Spinner size="tiny" label="Loading the plot…" />}>
          <TelemetryPlot messages={shown} {...(fields ? { fields } : {})} />
        </Suspense>
      )}
      {shown.length === 0 ? (
        <p className="muted">
          {on ? 'Waiting for telemetry… (messages appear as the hub receives them)' : 'Off.'}
        </p>
      ) : (
        <ol className="telemetry-list" data-testid="telemetry-list">
          {shown.slice(0, KEPT).map((message) => (
            <TelemetryMessage key={message.position} message={message} showDevice={!target} />
          ))}
        </ol>
      )}
    </section>
  );
}
