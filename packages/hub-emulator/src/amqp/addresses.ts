import type { Identity } from '../devices/device-sessions.ts';

/**
 * Where a link goes. The SDKs name the same entity three ways: relative (`devices/d/…`,
 * Node, Java, Python), rooted (`/devices/d/…`), or absolute with the host and maybe the port
 * (`amqps://hub.azure-devices.net:5671/devices/d/…`, .NET and C). Every route matches the
 * entity path this gives, so each link address is read in one place.
 */
export function entityPath(address: string): string {
  const absolute = /^amqps?:\/\/[^/]*(\/.*)?$/i.exec(address);
  const path = absolute ? (absolute[1] ?? '') : address;
  return path.replace(/^\/+/, '');
}

/** Address patterns of IoT Hub's AMQP links, matched against an entity path (`entityPath`). */
const ID = "[A-Za-z0-9\\-:.+%_#*?!(),=@;$']+";
const path = (tail: string) =>
  new RegExp(`^devices/(?<deviceId>${ID})(?:/modules/(?<moduleId>${ID}))?/${tail}$`, 'i');
export const ADDRESS = {
  telemetry: path('messages/events'),
  twin: path('twin'),
  methods: path('methods/devicebound'),
  cloudToDevice: path('messages/devicebound'),
  /** The service's links: C2D sends, their feedback, file notifications. */
  serviceCloudToDevice: /^messages\/devicebound$/i,
  feedback: /^messages\/servicebound\/feedback$/i,
  fileNotifications: /^messages\/servicebound\/filenotifications$/i,
};

function decodeId(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The identity an address names, when it matches. */
export function matchIdentity(
  pattern: RegExp,
  address: string,
): Record<string, string> | undefined {
  const groups = pattern.exec(address)?.groups;
  if (!groups?.['deviceId']) return undefined;
  return {
    deviceId: decodeId(groups['deviceId']),
    ...(groups['moduleId'] ? { moduleId: decodeId(groups['moduleId']) } : {}),
  };
}

export const identityOf = (params: Record<string, string>): Identity => ({
  deviceId: params['deviceId']!,
  ...(params['moduleId'] !== undefined ? { moduleId: params['moduleId'] } : {}),
});

export const scopeOf = (identity: Identity) =>
  identity.moduleId === undefined
    ? `devices/${identity.deviceId}`
    : `devices/${identity.deviceId}/modules/${identity.moduleId}`;
