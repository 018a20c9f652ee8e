import {
  Button,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { OverviewBar, OverviewPoint, OverviewResponse } from '@twinscope/contract';
import { useState } from 'react';
import { useOverview } from '../api/get-overview.ts';
import { ago, devices, every, listPath } from '../overview-model.ts';
import { BarChart, type Bar, type Tone } from './bar-chart.tsx';
import { OverviewSettingsForm } from './overview-settings-form.tsx';
import { TrendChart } from './trend-chart.tsx';

const hourFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** A bar counting devices (or modules), opening the list of them. */
function deviceBar(
  bar: OverviewBar,
  tone: Tone = 'brand',
  source: 'devices' | 'modules' = 'devices',
): Bar {
  const href = listPath(bar, source);
  const noun = source === 'modules' ? 'module' : 'device';
  return {
    label: bar.label,
    value: bar.count,
    spoken: `${bar.label}: ${devices(bar.count, noun)}`,
    unit: bar.count === 1 ? noun : `${noun}s`,
    ...(href ? { href } : {}),
    tone,
  };
}

const QUOTA_NAMES: Record<string, string> = {
  identity: 'Identity operations',
  query: 'Queries',
  twinRead: 'Twin reads',
  twinUpdate: 'Twin updates',
  method: 'Direct methods',
  cloudToDevice: 'Cloud-to-device sends',
  configurations: 'Configurations',
  jobs: 'Jobs',
};

function trend(points: OverviewPoint[], format: Intl.DateTimeFormat) {
  return {
    times: points.map((p) => Date.parse(p.at)),
    labels: points.map((p) => format.format(new Date(p.at))),
    series: [
      { name: 'Connected', tone: 'good' as const, values: points.map((p) => p.connected) },
      { name: 'Devices', tone: 'brand' as const, values: points.map((p) => p.devices) },
      { name: 'Drifting twins', tone: 'warning' as const, values: points.map((p) => p.drifting) },
    ],
  };
}

function Charts({ overview }: { overview: OverviewResponse }) {
  const snapshot = overview.snapshot!;
  const tagBars = snapshot.tag.bars.map((b) => deviceBar(b));
  // Not a link: the values it sums have no one condition.
  if (snapshot.tag.others > 0)
    tagBars.push(deviceBar({ label: 'Other values', count: snapshot.tag.others }, 'neutral'));
  const hourly = trend(overview.hourly, hourFormat);
  const daily = trend(overview.daily, dayFormat);
  return (
    <div className="overview-grid">
      <BarChart
        title="Connection"
        testId="chart-connection"
        bars={snapshot.connection.map((b) =>
          deviceBar(b, b.label === 'Connected' ? 'good' : 'neutral'),
        )}
      />
      <BarChart
        title="Status"
        testId="chart-status"
        bars={snapshot.status.map((b) => deviceBar(b, b.label === 'Enabled' ? 'brand' : 'bad'))}
      />
      <BarChart
        title={`By ${snapshot.tag.key}`}
        testId="chart-tag"
        bars={tagBars}
        empty={`No device has tags.${snapshot.tag.key}.`}
      />
      {snapshot.drift.map((d) => (
        <BarChart
          key={`${d.on} ${d.key}`}
          title={`Desired ${d.key} against reported${d.on === 'modules' ? ' (module twins)' : ''}`}
          testId={d.on === 'modules' ? 'chart-module-drift' : 'chart-drift'}
          max={d.asked.count}
          bars={[
            deviceBar(d.holds, 'good', d.on),
            deviceBar(d.differs, 'warning', d.on),
            deviceBar(d.neverReported, 'bad', d.on),
          ]}
          empty="No twin is asked for it."
          footer={
            <Text size={200}>
              {d.on === 'modules'
                ? `${devices(d.asked.count, 'module')} asked for it (module twins)`
                : `${devices(d.asked.count)} asked for it (device twins)`}
            </Text>
          }
        />
      ))}
      <BarChart
        title="IoT Edge"
        testId="chart-edge"
        bars={[deviceBar(snapshot.edge.devices), deviceBar(snapshot.edge.failing, 'bad')]}
        footer={
          snapshot.edge.partial ? (
            <Text size={200}>Failing modules counted on the first 1,000 Edge devices.</Text>
          ) : undefined
        }
      />
      <BarChart
        title="Configurations and deployments: applied of targeted"
        testId="chart-configurations"
        max={1}
        empty="No automatic configuration or deployment."
        bars={snapshot.configurations.map((c) => {
          const href = c.where
            ? listPath({ label: c.id, count: c.targeted, where: c.where })
            : undefined;
          return {
            label: c.id,
            value: c.targeted > 0 ? c.applied / c.targeted : 0,
            shown: `${c.applied} of ${c.targeted}`,
            spoken: `${c.id} (${c.kind}): applied on ${c.applied} of ${c.targeted} targeted`,
            unit: 'applied of targeted',
            ...(href ? { href } : {}),
            tone: c.applied >= c.targeted ? 'good' : 'warning',
          } satisfies Bar;
        })}
      />
      <BarChart
        title="Rollouts in progress"
        testId="chart-rollouts"
        max={1}
        empty="No rollout is running."
        bars={overview.rollouts.map((r) => ({
          label: r.name,
          value: r.total > 0 ? r.done / r.total : 0,
          shown: `${r.done} of ${r.total}`,
          spoken: `${r.name} (${r.state.replace(/_/g, ' ')}): ${r.done} of ${r.total} targets done`,
          unit: `targets done (${r.state.replace(/_/g, ' ')})`,
          href: `/rollouts/${r.id}`,
          tone: r.state === 'paused' ? 'warning' : 'brand',
        }))}
      />
      <TrendChart
        title="Connected devices and drift, last 7 days (hourly)"
        testId="chart-trend-hourly"
        times={hourly.times}
        stepMs={3_600_000}
        labels={hourly.labels}
        series={hourly.series}
        empty="The first hourly point is kept with the first look."
      />
      <TrendChart
        title="Connected devices and drift, last 90 days (daily)"
        testId="chart-trend-daily"
        times={daily.times}
        stepMs={86_400_000}
        labels={daily.labels}
        series={daily.series}
        empty="The first daily point is kept with the first look."
      />
      <TrendChart
        title="Device-to-cloud messages per minute, last hour"
        testId="chart-telemetry"
        times={overview.telemetry.map((t) => Date.parse(t.at))}
        stepMs={60_000}
        labels={overview.telemetry.map((t) => minuteFormat.format(new Date(t.at)))}
        series={[
          { name: 'Messages', tone: 'brand', values: overview.telemetry.map((t) => t.messages) },
        ]}
        empty="No message was read from the event endpoint in the last hour (counted when the console reads the hub's Event Hubs-compatible endpoint)."
      />
      <BarChart
        title={`The hub's throttles in use (${
          (overview.quotaReplicas ?? 1) === 1
            ? 'one replica'
            : `${overview.quotaReplicas} replicas together`
        })`}
        testId="chart-quota"
        max={1}
        empty="The hub's tier sets no quota here (unlimited)."
        bars={(overview.quota ?? []).map((q) => {
          const percent = Math.round(q.used * 100);
          const name = QUOTA_NAMES[q.kind] ?? q.kind;
          return {
            label: name,
            value: Math.min(1, q.used),
            shown: `${percent} %`,
            spoken: `${name}: ${percent} % of ${q.rate} in use`,
            unit: `of ${q.rate} in use`,
            tone: q.used > 0.8 ? 'bad' : q.used > 0.5 ? 'warning' : 'brand',
          } satisfies Bar;
        })}
      />
    </div>
  );
}

/**
 * The landing page: the fleet at a glance, from one look at the hub the BFF takes on a
 * schedule and stores (how old it is is said), shared by every tab.
 */
export function OverviewPage({ refusal }: { refusal: string | undefined }) {
  const overview = useOverview();
  const [editing, setEditing] = useState(false);
  const data = overview.data;
  const snapshot = data?.snapshot;
  return (
    <div className="page overview-page">
      <div className="section-head">
        <h1 className="page-title">Overview</h1>
        <span className="spacer" />
        {snapshot && data && (
          <Text size={200} className="muted" data-testid="overview-as-of">
            As of {ago(snapshot.takenAt)} · the hub is looked at {every(data.intervalSeconds)} (
            {snapshot.queries} queries a look)
          </Text>
        )}
        {data &&
          (refusal === undefined ? (
            <Button disabled={editing} onClick={() => setEditing(true)}>
              Customize
            </Button>
          ) : (
            <Tooltip content={refusal} relationship="description">
              <Button disabled>Customize</Button>
            </Tooltip>
          ))}
      </div>
      {editing && data && (
        <OverviewSettingsForm settings={data.settings} onDone={() => setEditing(false)} />
      )}
      {overview.isError && (
        <MessageBar intent="error">
          <MessageBarBody>
            <MessageBarTitle>The overview could not be read</MessageBarTitle>
            {overview.error.message}
          </MessageBarBody>
        </MessageBar>
      )}
      {overview.isPending && <Spinner label="Loading the overview…" />}
      {data && !snapshot && (
        <Spinner label="Taking the first look at the hub…" data-testid="overview-waiting" />
      )}
      {snapshot && snapshot.problems.length > 0 && (
        <MessageBar intent="warning">
          <MessageBarBody>
            <MessageBarTitle>Some charts could not be counted in the last look</MessageBarTitle>
            {snapshot.problems.map((p) => `${p.chart}: ${p.message}`).join(' · ')}
          </MessageBarBody>
        </MessageBar>
      )}
      {data && snapshot && <Charts overview={data} />}
    </div>
  );
}
