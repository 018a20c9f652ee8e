import { Spinner } from '@fluentui/react-components';
import { lazy, Suspense, useEffect } from 'react';
import { devicePath, Link, matchPath, navigate, useLocation } from '../lib/router.tsx';
import { Layout } from './layout.tsx';
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
const ProvisioningRoute = lazy(() =>
  import('./routes/provisioning-route.tsx').then((m) => ({ default: m.ProvisioningRoute })),
);
const EnrollmentRoute = lazy(() =>
  import('./routes/provisioning-route.tsx').then((m) => ({ default: m.EnrollmentRoute })),
);
const FleetJobsRoute = lazy(() =>
  import('./routes/fleet-jobs-route.tsx').then((m) => ({ default: m.FleetJobsRoute })),
);
const ActivityRoute = lazy(() =>
  import('./routes/activity-route.tsx').then((m) => ({ default: m.ActivityRoute })),
);
const ModuleRoute = lazy(() =>
  import('./routes/module-route.tsx').then((m) => ({ default: m.ModuleRoute })),
);
// The landing page: its charts load with it, not with the fleet list.
const OverviewRoute = lazy(() =>
  import('./routes/overview-route.tsx').then((m) => ({ default: m.OverviewRoute })),
);
const pageLoading = <Spinner label="Loading…" />;

/**
 * Which page a path shows, inside the layout with its breadcrumbs; the device, module,
 * rollout, configuration, provisioning, import / export, activity and audit pages load when
 * first opened.
 */
export function Pages({ dark }: { dark: boolean }) {
  const { pathname, search } = useLocation();
  useEffect(() => {
    if (pathname === '/' || pathname === '') navigate('/overview', { replace: true });
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
  if (pathname === '/overview') {
    return (
      <Layout crumbs={<span>Overview</span>}>
        <Suspense fallback={pageLoading}>
          <OverviewRoute />
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
  if (pathname === '/provisioning') {
    return (
      <Layout crumbs={<span>Provisioning</span>}>
        <Suspense fallback={pageLoading}>
          <ProvisioningRoute />
        </Suspense>
      </Layout>
    );
  }
  const group = matchPath('/provisioning/groups/:id', pathname);
  const individual = matchPath('/provisioning/enrollments/:id', pathname);
  if (pathname === '/provisioning/new' || group || individual) {
    const id = (group ?? individual)?.['id'];
    // /provisioning/new without a kind creates a group, the usual start.
    const kind =
      group || (!individual && search.get('kind') !== 'individual') ? 'group' : 'individual';
    return (
      <Layout
        crumbs={
          <>
            <Link to="/provisioning">Provisioning</Link> /{' '}
            <span>
              {id ?? `New ${kind === 'group' ? 'enrollment group' : 'individual enrollment'}`}
            </span>
          </>
        }
      >
        <Suspense fallback={pageLoading}>
          <EnrollmentRoute kind={kind} {...(id === undefined ? {} : { id })} dark={dark} />
        </Suspense>
      </Layout>
    );
  }
  const fleetJob = matchPath('/fleet/jobs/:jobId', pathname);
  if (pathname === '/fleet/jobs' || fleetJob) {
    const jobId = fleetJob?.['jobId'];
    // The page and a job's link are one element: opening a job just started keeps the forms.
    return (
      <Layout
        crumbs={
          jobId === undefined ? (
            <span>Import / export</span>
          ) : (
            <>
              <Link to="/fleet/jobs">Import / export</Link> / <span>{jobId}</span>
            </>
          )
        }
      >
        <Suspense fallback={pageLoading}>
          <FleetJobsRoute {...(jobId === undefined ? {} : { jobId })} />
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
