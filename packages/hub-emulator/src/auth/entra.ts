import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { HubError } from '../errors.ts';
import type { Principal, Right } from './sas.ts';

/** IoT Hub's built-in data-plane roles (Azure RBAC) that a principal can be assigned. */
export type DataPlaneRole =
  | 'IoT Hub Data Reader'
  | 'IoT Hub Twin Contributor'
  | 'IoT Hub Registry Contributor'
  | 'IoT Hub Data Contributor'
  // Event Hubs roles, for reading the events endpoint as a custom Event Hub would be read.
  | 'Azure Event Hubs Data Receiver'
  | 'Azure Event Hubs Data Owner'
  // The Device Provisioning Service's, for its service API (enrollments, registrations).
  | 'Device Provisioning Service Data Reader'
  | 'Device Provisioning Service Data Contributor';

/**
 * What each role allows, in the emulator's rights. IoT Hub checks finer actions
 * (twins/write, devices/write, …); these rights are the nearest the operation table has:
 * twin writes and direct methods need ServiceConnect, identity writes RegistryWrite.
 */
export const ROLE_RIGHTS: Record<DataPlaneRole, Right[]> = {
  'IoT Hub Data Reader': ['RegistryRead'],
  'IoT Hub Twin Contributor': ['RegistryRead', 'ServiceConnect'],
  'IoT Hub Registry Contributor': ['RegistryRead', 'RegistryWrite'],
  'IoT Hub Data Contributor': ['RegistryRead', 'RegistryWrite', 'ServiceConnect'],
  'Azure Event Hubs Data Receiver': [],
  'Azure Event Hubs Data Owner': [],
  'Device Provisioning Service Data Reader': [],
  'Device Provisioning Service Data Contributor': [],
};

/** Roles that may read events (receive) from the Event Hubs-compatible endpoint. */
export const EVENTS_READ_ROLES: readonly DataPlaneRole[] = [
  'Azure Event Hubs Data Receiver',
  'Azure Event Hubs Data Owner',
];

/** The audience of Entra access tokens for IoT Hub (scope https://iothubs.azure.net/.default). */
export const IOT_HUB_AUDIENCE = 'https://iothubs.azure.net';
/** … for the Device Provisioning Service (scope https://azure-devices-provisioning.net/.default) … */
export const DPS_AUDIENCE = 'https://azure-devices-provisioning.net';
/** … and for Event Hubs (scope https://eventhubs.azure.net/.default). */
export const EVENT_HUBS_AUDIENCE = 'https://eventhubs.azure.net';

export interface EntraAccess {
  /** The trusted token issuer (`iss`), e.g. https://sts.windows.net/<tenant>/. */
  issuer: string;
  /** Public keys (JWK, with `kid`) that sign the issuer's tokens. */
  keys: (JsonWebKey & { kid?: string })[];
  /** Data-plane role assignments, by principal object id (`oid`). */
  roleAssignments: Record<string, DataPlaneRole[]>;
}

const unauthorized = (message: string) => new HubError('IotHubUnauthorizedAccess', message);

function decodePart(part: string | undefined): Record<string, unknown> {
  if (!part) throw unauthorized('The bearer token is not a JWT.');
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw unauthorized('The bearer token is not a JWT.');
  }
}

/**
 * Checks an Entra access token as the services do: signature by a trusted key, issuer,
 * audience, lifetime; answers the principal's role assignments.
 */
export function verifyEntraToken(
  token: string,
  access: EntraAccess,
  audience: string,
  service: string,
): { oid: string | undefined; roles: DataPlaneRole[]; expiresAt: number } {
  const parts = token.trim().split('.');
  const [head, payload, signature] = parts;
  const jwtHeader = decodePart(head);
  const claims = decodePart(payload);
  const alg = jwtHeader['alg'];
  const key = access.keys.find((k) => jwtHeader['kid'] === undefined || k.kid === jwtHeader['kid']);
  if (!key || (alg !== 'RS256' && alg !== 'ES256') || parts.length !== 3) {
    throw unauthorized('The bearer token is not signed by a trusted key.');
  }
  const valid = verify(
    'sha256',
    Buffer.from(`${head}.${payload}`),
    {
      key: createPublicKey({ key, format: 'jwk' }),
      ...(alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    },
    Buffer.from(signature ?? '', 'base64url'),
  );
  if (!valid) throw unauthorized('The bearer token signature is not valid.');
  const now = Date.now() / 1000;
  if (claims['iss'] !== access.issuer)
    throw unauthorized('The bearer token is from an untrusted issuer.');
  const aud = claims['aud'];
  if (aud !== audience && aud !== `${audience}/`) {
    throw unauthorized(`The bearer token is not for ${service} (audience must be ${audience}).`);
  }
  if (typeof claims['exp'] !== 'number' || claims['exp'] <= now)
    throw unauthorized('The bearer token has expired.');
  if (typeof claims['nbf'] === 'number' && claims['nbf'] > now + 300) {
    throw unauthorized('The bearer token is not valid yet.');
  }
  const oid = typeof claims['oid'] === 'string' ? claims['oid'] : undefined;
  return {
    oid,
    roles: (oid && access.roleAssignments[oid]) || [],
    expiresAt: (claims['exp'] as number) * 1000,
  };
}

/** Verifies `Authorization: Bearer …` on the service API and maps roles to rights. */
export function verifyBearerToken(header: string, access: EntraAccess | undefined): Principal {
  if (!access) {
    throw unauthorized(
      'This hub does not accept Microsoft Entra ID tokens; use a shared access signature.',
    );
  }
  const { oid, roles, expiresAt } = verifyEntraToken(
    header.slice('Bearer '.length),
    access,
    IOT_HUB_AUDIENCE,
    'IoT Hub',
  );
  const rights = new Set(roles.flatMap((role) => ROLE_RIGHTS[role] ?? []));
  if (rights.size === 0) {
    throw unauthorized(
      `Principal ${oid ?? '(no oid)'} has no IoT Hub data-plane role on this hub.`,
    );
  }
  return { name: `entra:${oid}`, rights, scope: [], expiresAt };
}

/**
 * Verifies `Authorization: Bearer …` on the provisioning service's API: reading enrollments
 * and registrations needs a DPS data-plane role; changing them, or reading an enrollment's
 * keys (its attestation mechanism), needs Data Contributor. Answers the principal's name.
 */
export function verifyProvisioningBearer(
  header: string,
  access: EntraAccess | undefined,
  write: boolean,
): string {
  if (!access)
    throw unauthorized(
      'This provisioning service does not accept Microsoft Entra ID tokens; use a shared access signature.',
    );
  const { oid, roles } = verifyEntraToken(
    header.slice('Bearer '.length),
    access,
    DPS_AUDIENCE,
    'the Device Provisioning Service',
  );
  const contributor = roles.includes('Device Provisioning Service Data Contributor');
  if (!contributor && !(roles.includes('Device Provisioning Service Data Reader') && !write))
    throw unauthorized(
      `Principal ${oid ?? '(no oid)'} lacks ${write ? 'Device Provisioning Service Data Contributor' : 'a Device Provisioning Service data-plane role'} on this service.`,
    );
  return `entra:${oid}`;
}
