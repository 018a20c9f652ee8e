import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

// A small history router: the console has four routes, and deep links are plain URLs.
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === `${location.pathname}${location.search}`) return;
  history[options.replace ? 'replaceState' : 'pushState'](null, '', to);
  notify();
}

export function useLocation(): { pathname: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => `${location.pathname}${location.search}`);
  const at = href.indexOf('?');
  return {
    pathname: at >= 0 ? href.slice(0, at) : href,
    search: new URLSearchParams(at >= 0 ? href.slice(at + 1) : ''),
  };
}

/** Matches `/devices/:deviceId` against a path; params come back decoded. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = pathname.split('/').filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(have[i]!);
      } catch {
        return undefined;
      }
    } else if (segment !== have[i]) {
      return undefined;
    }
  }
  return params;
}

export function devicePath(deviceId: string, moduleId?: string): string {
  const base = `/devices/${encodeURIComponent(deviceId)}`;
  return moduleId === undefined ? base : `${base}/modules/${encodeURIComponent(moduleId)}`;
}

/** An enrollment group's or an individual enrollment's page in the console. */
export function enrollmentPath(kind: 'group' | 'individual', id: string): string {
  return `/provisioning/${kind === 'group' ? 'groups' : 'enrollments'}/${encodeURIComponent(id)}`;
}

/** The page creating an enrollment group or an individual enrollment. */
export const newEnrollmentPath = (kind: 'group' | 'individual') => `/provisioning/new?kind=${kind}`;

/** One bulk import or export job on the console's Import / export page. */
export const fleetJobPath = (jobId: string) => `/fleet/jobs/${encodeURIComponent(jobId)}`;

export function Link({
  to,
  onClick,
  ...rest
}: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
