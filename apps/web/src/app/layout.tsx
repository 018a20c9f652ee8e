import { Badge, Text, Tooltip } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { useLiveStatus } from '../features/live/use-live.ts';
import { Link } from '../lib/router.tsx';
import { useMe } from './use-me.ts';
import { UserButton } from './user-button.tsx';
import { usePermissions } from './use-permissions.ts';

function LiveIndicator() {
  const { state, feed } = useLiveStatus();
  // Polling with a reason means the event endpoint failed and polling stands in for it.
  const fellBack = feed?.source === 'polling' && feed.message !== undefined;
  const label =
    state === 'live'
      ? feed && !feed.healthy
        ? 'Live (feed degraded)'
        : fellBack
          ? 'Live (polling)'
          : 'Live'
      : state === 'closed'
        ? 'Offline'
        : 'Reconnecting…';
  const detail =
    state === 'live'
      ? `Changes arrive via ${feed?.source === 'event-hubs' ? 'Event Hubs' : 'polling'}${feed?.message ? `: ${feed.message}` : ''}`
      : 'Changes made elsewhere will appear once the connection is back.';
  return (
    <Tooltip content={detail} relationship="description">
      <Badge
        data-testid="live-status"
        data-state={state}
        data-source={feed?.source ?? 'unknown'}
        color={
          state === 'live'
            ? feed?.healthy === false || fellBack
              ? 'warning'
              : 'success'
            : 'danger'
        }
        appearance="tint"
      >
        {label}
      </Badge>
    </Tooltip>
  );
}

export function Layout({ children, crumbs }: { children: ReactNode; crumbs: ReactNode }) {
  const me = useMe();
  const permissions = usePermissions();
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/overview" className="brand">
          Twinscope
        </Link>
        <nav className="crumbs" aria-label="Breadcrumb">
          {crumbs}
        </nav>
        <span className="spacer" />
        <Link to="/overview" className="topbar-link">
          Overview
        </Link>
        <Link to="/devices" className="topbar-link">
          Devices
        </Link>
        <Link to="/activity" className="topbar-link">
          Activity
        </Link>
        <Link to="/rollouts" className="topbar-link">
          Rollouts
        </Link>
        <Link to="/configurations" className="topbar-link">
          Configurations
        </Link>
        <Link to="/provisioning" className="topbar-link">
          Provisioning
        </Link>
        <Link to="/fleet/jobs" className="topbar-link">
          Import / export
        </Link>
        {permissions.may('audit.read') && (
          <Link to="/audit" className="topbar-link">
            Audit trail
          </Link>
        )}
        {me.data && (
          <Text size={200} className="muted" data-testid="hub-name">
            {me.data.hub.hostName}
            {me.data.hub.emulator ? ' (emulator)' : ''}
          </Text>
        )}
        <LiveIndicator />
        <UserButton />
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
