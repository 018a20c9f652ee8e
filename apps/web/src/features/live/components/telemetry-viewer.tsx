import {
  Badge,
  Button,
  Input,
  MessageBar,
  MessageBarBody,
  Switch,
  Text,
} from '@fluentui/react-components';
import type { TelemetryEvent, TwinRef } from '@twinscope/contract';
import { useMemo, useState } from 'react';
import { useLiveEvents, useLiveStatus, useWatchTelemetry } from '../use-live.ts';

/** Messages kept on screen; older ones scroll away (export first to keep them). */
const KEPT = 500;

function bodyText(event: TelemetryEvent): string {
  switch (event.body.kind) {
    case 'json':
      return JSON.stringify(event.body.value, null, 2);
    case 'text':
      return event.body.text;
    case 'binary':
      return event.body.hex.replace(/(..)/g, '$1 ').trim();
  }
}

function matches(event: TelemetryEvent, filter: string): boolean {
  if (!filter) return true;
  const needle = filter.toLowerCase();
  const haystack = [
    bodyText(event),
    event.moduleId ?? '',
    ...Object.entries(event.properties).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(event.system).map(([k, v]) => `${k}=${v}`),
  ]
    .join('\n')
    .toLowerCase();
  return haystack.includes(needle);
}

/**
 * Live telemetry of a device or a module: what the hub's Event Hubs-compatible endpoint
 * delivers, decoded, newest first; pause, clear, filter by text or property, export.
 */
export function TelemetryViewer({ target }: { target: TwinRef }) {
  const [on, setOn] = useState(true);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const [messages, setMessages] = useState<TelemetryEvent[]>([]);
  const [missedWhilePaused, setMissedWhilePaused] = useState(0);
  const [dropped, setDropped] = useState<{ count: number; limit: number }>();
  const live = useLiveStatus();
  useWatchTelemetry([target], on);
  useLiveEvents((event) => {
    if (!on) return;
    if (event.type === 'telemetry') {
      if (event.deviceId !== target.deviceId || event.moduleId !== target.moduleId) return;
      if (paused) {
        setMissedWhilePaused((n) => n + 1);
        return;
      }
      setMessages((current) => [event, ...current].slice(0, KEPT));
    } else if (event.type === 'telemetry-dropped') {
      setDropped((current) => ({
        count: (current?.count ?? 0) + event.dropped,
        limit: event.limitPerSecond,
      }));
    }
  });
  const shown = useMemo(() => messages.filter((m) => matches(m, filter)), [messages, filter]);

  const exportLines = () => {
    const lines = shown
      .slice()
      .reverse()
      .map((m) => JSON.stringify(m))
      .join('\n');
    const url = URL.createObjectURL(new Blob([`${lines}\n`], { type: 'application/x-ndjson' }));
    const link = document.createElement('a');
    link.href = url;
    const who = target.moduleId ? `${target.deviceId}-${target.moduleId}` : target.deviceId;
    link.download = `telemetry-${who}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
    link.click();
    URL.revokeObjectURL(url);
  };

  const fromEndpoint = live.feed?.source === 'event-hubs';
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
          {shown.length} shown{filter ? ` of ${messages.length}` : ''}
        </Text>
      </div>
      {on && !fromEndpoint && (
        <MessageBar intent="info">
          <MessageBarBody>
            Telemetry comes from the hub&apos;s Event Hubs-compatible endpoint;{' '}
            {live.feed?.message ?? 'the live view is not reading it right now.'}
          </MessageBarBody>
        </MessageBar>
      )}
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
      {shown.length === 0 ? (
        <p className="muted">
          {on ? 'Waiting for telemetry… (messages appear as the hub receives them)' : 'Off.'}
        </p>
      ) : (
        <ol className="telemetry-list" data-testid="telemetry-list">
          {shown.map((message) => (
            <li key={message.position} data-testid="telemetry-message">
              <div className="history-line">
                <span className="muted" title={message.enqueuedTime}>
                  {new Date(message.enqueuedTime).toLocaleTimeString()}
                </span>
                {message.moduleId && <Badge appearance="outline">{message.moduleId}</Badge>}
                {message.system['iothub-outputname'] && (
                  <Badge appearance="outline">output {message.system['iothub-outputname']}</Badge>
                )}
                <Badge appearance="tint">{message.body.kind}</Badge>
                {message.system['messageId'] && (
                  <code className="muted">{message.system['messageId']}</code>
                )}
                {message.truncated && (
                  <span className="muted">first 16 KB of {Math.ceil(message.bytes / 1024)} KB</span>
                )}
              </div>
              {Object.keys(message.properties).length > 0 && (
                <div className="muted">
                  {Object.entries(message.properties)
                    .map(([k, v]) => `${k}=${v}`)
                    .join('  ')}
                </div>
              )}
              <pre>{bodyText(message)}</pre>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
