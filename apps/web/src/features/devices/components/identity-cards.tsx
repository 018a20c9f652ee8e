import { Badge, Text } from '@fluentui/react-components';
import {
  edgeDeviceOfScope,
  type DeviceIdentity,
  type ModuleIdentity,
  type Twin,
} from '@twinscope/contract';
import type { ReactNode } from 'react';
import { isNever, relativeTime } from '../../../lib/format.ts';
import { devicePath, Link } from '../../../lib/router.tsx';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="field">
      <Text size={200} className="muted">
        {label}
      </Text>
      <Text>{children}</Text>
    </div>
  );
}

function Connection({ state, since }: { state: string; since: string | undefined }) {
  return (
    <>
      <Badge
        color={state === 'Connected' ? 'success' : 'informative'}
        appearance={state === 'Connected' ? 'tint' : 'outline'}
      >
        {state}
      </Badge>{' '}
      <span className="muted">
        {since && !isNever(since) ? `since ${relativeTime(since)}` : ''}
      </span>
    </>
  );
}

/** Connection state and activity come from the twin when newer: it is what live events update. */
function live(
  identity: { connectionState: string; lastActivityTime?: string | undefined },
  twin?: Twin,
) {
  return {
    connectionState: twin?.connectionState ?? identity.connectionState,
    lastActivityTime: twin?.lastActivityTime ?? identity.lastActivityTime,
  };
}

export function DeviceIdentityCard({ device, twin }: { device: DeviceIdentity; twin?: Twin }) {
  const state = live(device, twin);
  // The IoT Edge devices above this one, from their scopes.
  const parents = (device.parentScopes ?? []).flatMap((scope) => {
    const id = edgeDeviceOfScope(scope);
    return id ? [id] : [];
  });
  return (
    <div className="identity-card" role="group" aria-label="Device identity">
      <Field label="Status">
        {device.status}
        {device.statusReason ? ` (${device.statusReason})` : ''}
      </Field>
      <Field label="Connection">
        <Connection state={state.connectionState} since={device.connectionStateUpdatedTime} />
      </Field>
      <Field label="Last activity">{relativeTime(state.lastActivityTime)}</Field>
      <Field label="Authentication">{device.authenticationType}</Field>
      <Field label="IoT Edge">{device.iotEdge ? 'yes' : 'no'}</Field>
      {parents.length > 0 && (
        <Field label={parents.length === 1 ? 'Parent' : 'Parents'}>
          {parents.map((parent, index) => (
            <span key={parent}>
              {index > 0 && ', '}
              <Link to={devicePath(parent)} data-testid="parent-link">
                {parent}
              </Link>
            </span>
          ))}
        </Field>
      )}
      <Field label="Cloud-to-device queue">{device.cloudToDeviceMessageCount ?? 0}</Field>
      <Field label="Generation">{device.generationId}</Field>
    </div>
  );
}

export function ModuleIdentityCard({ module, twin }: { module: ModuleIdentity; twin?: Twin }) {
  const state = live(module, twin);
  return (
    <div className="identity-card" role="group" aria-label="Module identity">
      <Field label="Connection">
        <Connection state={state.connectionState} since={module.connectionStateUpdatedTime} />
      </Field>
      <Field label="Last activity">{relativeTime(state.lastActivityTime)}</Field>
      <Field label="Managed by">{module.managedBy ?? '—'}</Field>
      <Field label="Authentication">{module.authenticationType}</Field>
      <Field label="Generation">{module.generationId}</Field>
    </div>
  );
}
