import {
  Badge,
  Button,
  Checkbox,
  Input,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { TIMELINE_KINDS, type TimelineEntry, type TimelineKind } from '@twinscope/contract';
import { useMemo, useState } from 'react';
import { useTimeline } from '../api/get-timeline.ts';
import { EndpointNotice } from './endpoint-notice.tsx';
import { downloadJsonLines } from '../../../lib/download.ts';
import {
  countByKind,
  entryOfLiveEvent,
  KIND_LABELS,
  mergeEntries,
  visibleEntries,
} from '../timeline-model.ts';
import { TimelineEntryLine } from './timeline-entry.tsx';
import { useLiveEvents, useLiveStatus, useWatchTelemetry, useWatchTwins } from '../use-live.ts';

const MINUTE = 60_000;
const STARTS: { label: string; minutes: number }[] = [
  { label: 'Last 15 minutes', minutes: 15 },
  { label: 'Last hour', minutes: 60 },
  { label: 'Last 6 hours', minutes: 360 },
  { label: 'Last 24 hours', minutes: 1440 },
  { label: 'Last 7 days', minutes: 7 * 1440 - 1 },
];

/**
 * Everything that happened to a device and its modules in one chronological live list:
 * read back from a chosen time (the hub's endpoint and Twinscope's audit trail), then kept
 * up to date from the tab's live stream. Filter by kind or text; export what is shown.
 */
export function DeviceTimeline({ deviceId, moduleIds }: { deviceId: string; moduleIds: string[] }) {
  const [minutes, setMinutes] = useState(60);
  const [since, setSince] = useState(() => new Date(Date.now() - 60 * MINUTE).toISOString());
  const [kinds, setKinds] = useState<ReadonlySet<TimelineKind>>(new Set(TIMELINE_KINDS));
  const [text, setText] = useState('');
  const [live, setLive] = useState<TimelineEntry[]>([]);
  const status = useLiveStatus();
  const history = useTimeline({ deviceId, since });
  useWatchTwins([{ deviceId }, ...moduleIds.map((moduleId) => ({ deviceId, moduleId }))]);
  useWatchTelemetry([{ deviceId, modules: true }], true);
  useLiveEvents((event) => {
    const entry = entryOfLiveEvent(event, deviceId);
    if (entry) setLive((current) => mergeEntries(current, [entry]));
  });

  const all = useMemo(
    () =>
      mergeEntries(
        history.data?.entries ?? [],
        live.filter((e) => e.at >= since),
      ),
    [history.data, live, since],
  );
  const shown = useMemo(() => visibleEntries(all, kinds, text), [all, kinds, text]);
  const counts = useMemo(() => countByKind(all), [all]);

  const toggle = (kind: TimelineKind, on: boolean) =>
    setKinds((current) => {
      const next = new Set(current);
      if (on) next.add(kind);
      else next.delete(kind);
      return next;
    });

  return (
    <section className="method-panel" aria-label="Timeline" data-testid="device-timeline">
      <div className="action-row">
        <Select
          aria-label="Timeline starts"
          value={String(minutes)}
          onChange={(_e, d) => {
            const chosen = Number(d.value);
            setMinutes(chosen);
            setSince(new Date(Date.now() - chosen * MINUTE).toISOString());
          }}
        >
          {STARTS.map((start) => (
            <option key={start.minutes} value={start.minutes}>
              {start.label}
            </option>
          ))}
        </Select>
        <Button
          onClick={() => {
            setLive([]);
            setSince(new Date(Date.now() - minutes * MINUTE).toISOString());
          }}
          disabled={history.isFetching}
        >
          Reload
        </Button>
        <Input
          value={text}
          onChange={(_e, d) => setText(d.value)}
          placeholder="Filter: who, what, module, body"
          aria-label="Filter the timeline"
        />
        <Button
          disabled={shown.length === 0}
          onClick={() => downloadJsonLines(`timeline-${deviceId}`, shown)}
        >
          Export JSON lines
        </Button>
        <Badge
          appearance="outline"
          color={status.state === 'live' ? 'success' : 'warning'}
          data-testid="timeline-live"
        >
          {status.state === 'live' ? 'Live' : status.state}
        </Badge>
      </div>
      <div className="action-row" role="group" aria-label="Kinds shown">
        {TIMELINE_KINDS.map((kind) => (
          <Checkbox
            key={kind}
            checked={kinds.has(kind)}
            onChange={(_e, d) => toggle(kind, d.checked === true)}
            label={`${KIND_LABELS[kind]} (${counts.get(kind) ?? 0})`}
          />
        ))}
      </div>
      {history.data?.notes.map((note) => (
        <MessageBar key={note} intent="info">
          <MessageBarBody>{note}</MessageBarBody>
        </MessageBar>
      ))}
      <EndpointNotice what="Telemetry and connection events come" />
      {history.error && (
        <MessageBar intent="error">
          <MessageBarBody>
            The timeline could not be read back: {history.error.message} What happens from now on
            still appears below.
          </MessageBarBody>
        </MessageBar>
      )}
      {history.isPending && (
        <Spinner size="tiny" label="Reading what happened from the hub's endpoint…" />
      )}
      {!history.isPending && shown.length === 0 ? (
        <p className="muted">
          {all.length === 0
            ? `Nothing happened to ${deviceId} since ${new Date(since).toLocaleString()}. New events appear here as they happen.`
            : 'Nothing matches the chosen kinds and filter.'}
        </p>
      ) : (
        <ol className="telemetry-list timeline-list" data-testid="timeline-list">
          {shown.map((entry) => (
            <TimelineEntryLine key={entry.id} entry={entry} />
          ))}
        </ol>
      )}
      {history.data && !history.data.complete && history.data.notes.length === 0 && (
        <Text size={200} className="muted">
          Older events may be missing: the read stopped at its limit.
        </Text>
      )}
    </section>
  );
}
