/** Topic helpers for IoT Hub's MQTT device surface (pure; unit-tested). */

import type { Identity } from '../devices/device-sessions.ts';

export type { Identity };

/** MQTT topic-filter matching with `+` and `#`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** `$rid=1&$version=3` (after the `?`) into a map; keys and values percent-decoded. */
export function parseQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split('&')) {
    if (!part) continue;
    const at = part.indexOf('=');
    const key = at >= 0 ? part.slice(0, at) : part;
    const value = at >= 0 ? part.slice(at + 1) : '';
    try {
      out.set(decodeURIComponent(key), decodeURIComponent(value));
    } catch {
      out.set(key, value);
    }
  }
  return out;
}

/** The identity a client id names: `device` or `device/module`. */
export function identityFromClientId(clientId: string): Identity | undefined {
  const parts = clientId.split('/');
  if (parts.length === 1 && parts[0]) return { deviceId: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { deviceId: parts[0], moduleId: parts[1] };
  return undefined;
}

/** Subscribed to this, a client listens for direct methods. */
export const METHODS_FILTER = '$iothub/methods/POST/#';

/** The topic filters an identity may subscribe to. */
export function allowedFilters(identity: Identity): string[] {
  const base = [METHODS_FILTER, '$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#'];
  return identity.moduleId === undefined
    ? [...base, `devices/${identity.deviceId}/messages/devicebound/#`]
    : [...base, `devices/${identity.deviceId}/modules/${identity.moduleId}/inputs/#`];
}

export type DevicePublish =
  | { kind: 'twin-get'; rid: string }
  | { kind: 'twin-reported'; rid: string }
  | { kind: 'method-response'; rid: string; status: number }
  | { kind: 'telemetry'; properties: Map<string, string> }
  | { kind: 'unknown' };

/** Classifies what a device or module published, for its own identity only. */
export function classifyPublish(topic: string, identity: Identity): DevicePublish {
  const [path = '', query = ''] = splitOnce(topic, '?');
  const params = parseQuery(query);
  const rid = params.get('$rid') ?? '';
  if (path === '$iothub/twin/GET/' || path === '$iothub/twin/GET') return { kind: 'twin-get', rid };
  if (
    path === '$iothub/twin/PATCH/properties/reported/' ||
    path === '$iothub/twin/PATCH/properties/reported'
  ) {
    return { kind: 'twin-reported', rid };
  }
  const method = /^\$iothub\/methods\/res\/(\d{1,3})\/?$/.exec(path);
  if (method) return { kind: 'method-response', rid, status: Number(method[1]) };
  const events =
    identity.moduleId === undefined
      ? `devices/${identity.deviceId}/messages/events/`
      : `devices/${identity.deviceId}/modules/${identity.moduleId}/messages/events/`;
  if (topic === events.slice(0, -1) || topic.startsWith(events)) {
    // The property bag: percent-encoded keys and values; output events end with a '/'.
    const bag = topic.slice(events.length).replace(/\/$/, '');
    return { kind: 'telemetry', properties: parseQuery(bag) };
  }
  return { kind: 'unknown' };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}
