import { createHmac, timingSafeEqual } from 'node:crypto';
import { HubError } from '../errors.ts';
import { generateKey } from '../store/identity-input.ts';

export type Right = 'RegistryRead' | 'RegistryWrite' | 'ServiceConnect' | 'DeviceConnect';

export interface Policy {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
  rights: Right[];
}

/**
 * The emulator's published development keys, as Azurite publishes its account key: with
 * `developmentKeys`, every policy has them, so an example or a test can carry a connection
 * string. Never secrets; never for anything reachable from another machine.
 */
export const DEVELOPMENT_KEYS = {
  primaryKey: '6EHicCLArcWSij5njXpn3yS/6p/QO9FhmMUfgxK4thQ=',
  secondaryKey: 'DVpwSSwp/yj23Ez1NZVqk1N3rK6EijuT9UDPgSNLe+Y=',
} as const;

/** IoT Hub's default shared access policies, with fresh keys (or the development keys). */
export function defaultPolicies(developmentKeys = false): Policy[] {
  const policy = (keyName: string, rights: Right[]): Policy => ({
    keyName,
    ...(developmentKeys
      ? { ...DEVELOPMENT_KEYS }
      : { primaryKey: generateKey(), secondaryKey: generateKey() }),
    rights,
  });
  return [
    policy('iothubowner', ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']),
    policy('service', ['ServiceConnect']),
    policy('device', ['DeviceConnect']),
    policy('registryRead', ['RegistryRead']),
    policy('registryReadWrite', ['RegistryRead', 'RegistryWrite']),
  ];
}

export interface SasToken {
  sr: string;
  sig: string;
  se: string;
  skn?: string;
}

const SAS_FIELDS = new Set(['sr', 'sig', 'se', 'skn']);

/**
 * Parses `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]`, fields in any order. A field
 * IoT Hub does not define, or one given twice, makes the token malformed: otherwise two
 * readers of the same token (the expiry check, a log line) could each see another `se`.
 */
export function parseSasToken(header: string): SasToken | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!header.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(prefix.length).trim().split('&')) {
    const at = part.indexOf('=');
    if (at <= 0) return undefined;
    const name = part.slice(0, at);
    if (!SAS_FIELDS.has(name) || fields.has(name)) return undefined;
    fields.set(name, part.slice(at + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (!sr || !sig || !se) return undefined;
  const skn = fields.get('skn');
  return { sr, sig, se, ...(skn ? { skn } : {}) };
}

function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Signs `sr` (as written in the token) with a key. IoT Hub signs with the base64-decoded
 * key; Event Hubs (the built-in endpoint) with the UTF-8 bytes of the key text.
 */
export function sign(
  sr: string,
  se: string,
  key: string,
  keyEncoding: 'base64' | 'utf8' = 'base64',
): string {
  return createHmac('sha256', Buffer.from(key, keyEncoding))
    .update(`${sr}\n${se}`)
    .digest('base64');
}

/** Builds a token the way the SDKs do, for connection strings and tests. */
export function createSasToken(
  resource: string,
  key: string,
  expiresAt: number,
  keyName?: string,
): string {
  const sr = encodeStrict(resource);
  const se = String(expiresAt);
  const sig = encodeStrict(sign(sr, se, key));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${se}${keyName ? `&skn=${encodeStrict(keyName)}` : ''}`;
}

/** Two signatures compared in constant time. */
export function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Principal {
  /** Policy name, or `device:<id>` / `module:<id>/<mid>` for identity keys. */
  name: string;
  rights: ReadonlySet<Right>;
  /** Path segments under the hub the token is limited to (empty: the whole hub). */
  scope: string[];
  /** When the credential expires (ms since the epoch), as the token itself says. */
  expiresAt?: number;
}

export interface IdentityKeys {
  primaryKey: string | null;
  secondaryKey: string | null;
}

export interface SasContext {
  hostNames: ReadonlySet<string>;
  policies: readonly Policy[];
  identityKeys(deviceId: string, moduleId?: string): IdentityKeys | undefined;
  now(): number;
  cache?: SasCache;
}

function unauthorized(message: string): HubError {
  return new HubError('IotHubUnauthorizedAccess', message);
}

/**
 * Remembers policy tokens that verified, until they expire. Clients send the same token for
 * many requests, and parsing plus the HMAC are most of the cost of a small request. Policy
 * keys do not change while the hub runs; identity-key tokens are never cached.
 */
export class SasCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(private readonly limit = 1000) {}

  get(header: string, now: number): Principal | undefined {
    const entry = this.entries.get(header);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry.principal;
    this.entries.delete(header);
    return undefined;
  }

  set(header: string, principal: Principal, expiresAt: number): void {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(header, { principal, expiresAt });
  }
}

/** Verifies a SAS token against the hub's policies or an identity's own keys. */
export function verifySasToken(header: string | undefined, context: SasContext): Principal {
  if (!header) throw unauthorized('The request has no Authorization header.');
  const cached = context.cache?.get(header, context.now());
  if (cached) return cached;
  const token = parseSasToken(header);
  if (!token)
    throw unauthorized('The Authorization header is not a well-formed SharedAccessSignature.');
  if (!/^\d{1,12}$/.test(token.se)) throw unauthorized('The token expiry (se) is not a number.');
  if (Number(token.se) * 1000 <= context.now()) {
    throw new HubError('IotHubUnauthorized', 'The SharedAccessSignature token has expired.');
  }
  let resource: string;
  let signature: string;
  let keyName: string | undefined;
  try {
    resource = decodeURIComponent(token.sr);
    signature = decodeURIComponent(token.sig);
    keyName = token.skn === undefined ? undefined : decodeURIComponent(token.skn);
  } catch {
    throw unauthorized('The token is not correctly URL-encoded.');
  }
  const [host = '', ...scope] = resource.split('/').filter((s, i) => i === 0 || s !== '');
  if (!context.hostNames.has(host.toLowerCase())) {
    throw unauthorized(`The token is for ${host}, not this hub.`);
  }
  let keys: IdentityKeys | undefined;
  let principal: Omit<Principal, 'scope'>;
  if (keyName !== undefined) {
    const policy = context.policies.find((p) => p.keyName === keyName);
    if (!policy) throw unauthorized(`No shared access policy is named ${keyName}.`);
    keys = policy;
    principal = { name: policy.keyName, rights: new Set(policy.rights) };
  } else {
    // A token signed with a device's or module's own key: sr = host/devices/d[/modules/m].
    const [devices, deviceId, modules, moduleId] = scope;
    const isModule = modules === 'modules' && moduleId !== undefined;
    if (
      devices !== 'devices' ||
      !deviceId ||
      (modules !== undefined && !isModule) ||
      scope.length > 4
    ) {
      throw unauthorized('A token without a policy name must be scoped to one device or module.');
    }
    keys = context.identityKeys(deviceId, isModule ? moduleId : undefined);
    if (!keys) throw unauthorized('The identity the token names does not exist or has no keys.');
    principal = {
      name: isModule ? `module:${deviceId}/${moduleId}` : `device:${deviceId}`,
      rights: new Set<Right>(['DeviceConnect']),
    };
  }
  const valid = [keys.primaryKey, keys.secondaryKey].some(
    (key) => key !== null && sameSignature(signature, sign(token.sr, token.se, key)),
  );
  if (!valid) throw unauthorized('The token signature is not valid.');
  const expiresAt = Number(token.se) * 1000;
  const verified = { ...principal, scope, expiresAt };
  if (keyName !== undefined) context.cache?.set(header, verified, expiresAt);
  return verified;
}

/** True when a token scoped to `scope` may act on the resource path `target`. */
export function scopeCovers(scope: readonly string[], target: readonly string[]): boolean {
  return scope.length <= target.length && scope.every((segment, i) => segment === target[i]);
}

/** `sb://host[:port]/a/b` → `a/b` (lower case): Event Hubs tokens name the entity as the client wrote it. */
export function audiencePath(audience: string): string {
  return audience
    .replace(/^[a-z]+:\/\/[^/]+\/?/i, '')
    .replace(/\/$/, '')
    .toLowerCase();
}

/**
 * Verifies an Event Hubs SAS token (`sr`, `sig`, `se`, `skn`) for the built-in endpoint: a
 * hub policy with ServiceConnect, signed over the key text. Answers the entity path it
 * covers and when it expires; throws with the reason otherwise.
 */
export function verifyEventHubsToken(
  token: string,
  policies: readonly Policy[],
  now: number,
): { path: string; expiresAt: number } {
  const parsed = parseSasToken(token);
  if (!parsed?.skn) throw new Error('the token is not a SharedAccessSignature with skn');
  if (!/^\d{1,12}$/.test(parsed.se)) throw new Error('the token expiry (se) is not a number');
  let keyName: string;
  let signature: string;
  let resource: string;
  try {
    keyName = decodeURIComponent(parsed.skn);
    signature = decodeURIComponent(parsed.sig);
    resource = decodeURIComponent(parsed.sr);
  } catch {
    throw new Error('the token is not correctly URL-encoded');
  }
  const policy = policies.find((p) => p.keyName === keyName);
  if (!policy) throw new Error(`no shared access policy named ${keyName}`);
  if (!policy.rights.includes('ServiceConnect'))
    throw new Error(`policy ${policy.keyName} lacks ServiceConnect, which reading events needs`);
  const expiresAt = Number(parsed.se) * 1000;
  if (expiresAt <= now) throw new Error('the token has expired');
  const valid = [policy.primaryKey, policy.secondaryKey].some((key) =>
    sameSignature(signature, sign(parsed.sr, parsed.se, key, 'utf8')),
  );
  if (!valid) throw new Error('the token signature is not valid');
  return { path: audiencePath(resource), expiresAt };
}
