import { FluentProvider, Spinner, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { LiveClient } from '../features/live/live-client.ts';
import { LiveContext } from '../features/live/use-live.ts';
import { createQueryClient } from '../lib/query-client.ts';
import { devicePath, Link, matchPath, navigate, useLocation } from '../lib/router.tsx';
import { useDarkMode } from '../lib/use-dark-mode.ts';
import { Layout } from './layout.tsx';
import { SessionGate } from './session-gate.tsx';
import { bridgeLiveToCache } from './live-bridge.ts';
import { DevicesRoute } from './routes/devices-route.tsx';

// Device and module pages (twin editor, methods, messages, history) load when first opened:
// the fleet list, where most visits start, does not wait for them.
const DeviceRoute = lazy(() =>
  import('./routes/device-route.tsx').then((m) => ({ default: m.DeviceRoute })),
);
const AuditRoute = lazy(() =>
  import('./routes/audit-route.tsx').then((m) => ({ default: m.AuditRoute })),
);
const ChangePreviewRoute = lazy(() =>
  import('./routes/change-preview-route.tsx').then((m) => ({ default: m.ChangePreviewRoute })),
);
const RolloutsRoute = lazy(() =>
  import('./routes/rollouts-route.tsx').then((m) => ({ default: m.RolloutsRoute })),
);
const RolloutRoute = lazy(() =>
  import('./routes/rollouts-route.tsx').then((m) => ({ default: m.RolloutRoute })),
);
const ConfigurationsRoute = lazy(() =>
  import('./routes/configurations-route.tsx').then((m) => ({ default: m.ConfigurationsRoute })),
);
const ActivityRoute = lazy(() =>
  import('./routes/activity-route.tsx').then((m) => ({ default: m.ActivityRoute })),
);
const ModuleRoute = lazy(() =>
  import('./routes/module-route.tsx').then((m) => ({ default: m.ModuleRoute })),
);
const pageLoading = <Spinner label="Loading…" />;

function Routes({ dark }: { dark: boolean }) {
  const { pathname, search } = useLocation();
  useEffect(() => {
    if (pathname === '/' || pathname === '') navigate('/devices', { replace: true });
  }, [pathname]);

  const module = matchPath('/devices/:deviceId/modules/:moduleId', pathname);
  if (module) {
    const { deviceId, moduleId } = module as { deviceId: string; moduleId: string };
    return (
      <Layout
        crumbs={
          <>
            <Link to="/devices">Devices</Link> / <Link to={devicePath(deviceId)}>{deviceId}</Link> /{' '}
            <span>{moduleId}</span>
          </>
        }
      >
        <Suspense fallback={pageLoading}>
          <ModuleRoute deviceId={deviceId} moduleId={moduleId} dark={dark} search={search} />
        </Suspense>
      </Layout>
    );
  }
  const device = matchPath('/devices/:deviceId', pathname);
  if (device) {
    const { deviceId } = device as { deviceId: string };
    return (
      <Layout
        crumbs={
          <>
            <Link to="/devices">Devices</Link> / <span>{deviceId}</span>
          </>
        }
      >
        <Suspense fallback={pageLoading}>
          <DeviceRoute deviceId={deviceId} dark={dark} search={search} />
        </Suspense>
      </Layout>
    );
  }
  if (pathname === '/rollouts/preview') {
    return (
      <Layout crumbs={<span>Preview a fleet change</span>}>
        <Suspense fallback={pageLoading}>
          <ChangePreviewRoute search={search} dark={dark} />
        </Suspense>
      </Layout>
    );
  }
  if (pathname === '/rollouts') {
    return (
      <Layout crumbs={<span>Rollouts</span>}>
        <Suspense fallback={pageLoading}>
          <RolloutsRoute />
        </Suspense>
      </Layout>
    );
  }
  const rollout = matchPath('/rollouts/:id', pathname);
  if (rollout) {
    const { id } = rollout as { id: string };
    return (
      <Layout
        crumbs={
          <>
            <Link to="/rollouts">Rollouts</Link> / <span>{id.slice(0, 8)}</span>
          </>
        }
      >
        <Suspense fallback={pageLoading}>
          <RolloutRoute id={id} />
        </Suspense>
      </Layout>
    );
  }
  if (pathname === '/configurations') {
    return (
      <Layout crumbs={<span>Configurations</span>}>
        <Suspense fallback={pageLoading}>
          <ConfigurationsRoute />
        </Suspense>
      </Layout>
    );
  }
  if (pathname === '/activity') {
    return (
      <Layout crumbs={<span>Fleet activity</span>}>
        <Suspense fallback={pageLoading}>
          <ActivityRoute search={search} />
        </Suspense>
      </Layout>
    );
  }
  if (pathname === '/audit') {
    return (
      <Layout crumbs={<span>Audit trail</span>}>
        <Suspense fallback={pageLoading}>
          <AuditRoute search={search} />
        </Suspense>
      </Layout>
    );
  }
  if (pathname === '/devices') {
    return (
      <Layout crumbs={<span>Devices</span>}>
        <DevicesRoute search={search} />
      </Layout>
    );
  }
  return (
    <Layout crumbs={<span>Not found</span>}>
      <p>
        Nothing lives at {pathname}. <Link to="/devices">Go to the devices</Link>.
      </p>
    </Layout>
  );
}

/** One live stream per tab, opened once the operator is signed in. */
function Live({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [live] = useState(() => new LiveClient());
  useEffect(() => {
    const unbridge = bridgeLiveToCache(live, queryClient);
    live.connect();
    return () => {
      unbridge();
      live.close();
    };
  }, [live, queryClient]);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export function App() {
  const dark = useDarkMode();
  const [queryClient] = useState(createQueryClient);
  useEffect(() => {
    document.documentElement.dataset['theme'] = dark ? 'dark' : 'light';
  }, [dark]);
  return (
    // No className here: Fluent copies the provider's classes onto its portal nodes, and a
    // full-height class there would cover the page. app.css sizes `#root > .fui-FluentProvider`.
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme}>
      <QueryClientProvider client={queryClient}>
        <SessionGate>
          {() => (
            <Live>
              <Routes dark={dark} />
            </Live>
          )}
        </SessionGate>
      </QueryClientProvider>
    </FluentProvider>
  );
}
