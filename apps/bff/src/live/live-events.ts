import type {
  ConnectionEvent,
  IdentityEvent,
  LiveEvent,
  Twin,
  TwinSectionName,
} from '@twinscope/contract';

/** The SSE event for a twin as it is now: which sections changed, and who changed it. */
export function twinEvent(
  twin: Twin,
  sections: TwinSectionName[],
  origin: 'console' | 'hub',
): LiveEvent {
  return {
    type: 'twin',
    deviceId: twin.deviceId,
    ...(twin.moduleId ? { moduleId: twin.moduleId } : {}),
    version: twin.version,
    sections,
    twin,
    origin,
  };
}

/** The SSE event for a device or module identity created or deleted. */
export function identityEvent(
  change: 'created' | 'deleted',
  deviceId: string,
  moduleId?: string,
  at?: number,
): IdentityEvent {
  return {
    type: 'identity',
    change,
    deviceId,
    ...(moduleId !== undefined ? { moduleId } : {}),
    ...(at !== undefined ? { at: new Date(at).toISOString() } : {}),
  };
}

/** The SSE event for a device or module that connected or disconnected. */
export function connectionEvent(
  opType: string,
  deviceId: string,
  moduleId: string | undefined,
  at: number | undefined,
): ConnectionEvent | undefined {
  if (opType !== 'deviceConnected' && opType !== 'deviceDisconnected') return undefined;
  return {
    type: 'connection',
    deviceId,
    ...(moduleId !== undefined ? { moduleId } : {}),
    state: opType === 'deviceConnected' ? 'Connected' : 'Disconnected',
    at: new Date(at ?? Date.now()).toISOString(),
  };
}
