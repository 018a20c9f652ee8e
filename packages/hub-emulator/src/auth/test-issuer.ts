import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { IOT_HUB_AUDIENCE, type DataPlaneRole, type EntraAccess } from './entra.ts';

/**
 * A stand-in for Entra's token service, for tests: it signs IoT Hub access tokens for
 * principals, and gives the emulator the matching `entra` option (issuer, public key, role
 * assignments). `credential(oid)` is an @azure/identity-shaped TokenCredential.
 */
export function createTestTokenIssuer(roleAssignments: Record<string, DataPlaneRole[]>) {
  const issuer = `https://sts.windows.net/${randomUUID()}/`;
  const kid = randomUUID();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const access: EntraAccess = {
    issuer,
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid }],
    roleAssignments,
  };
  const token = (claims: Record<string, unknown>): string => {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const body = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part({
      iss: issuer,
      aud: IOT_HUB_AUDIENCE,
      iat: now,
      nbf: now,
      exp: now + 3600,
      ...claims,
    })}`;
    return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
  };
  return {
    access,
    token,
    /** What azure-iothub calls: getToken(scope) → { token, expiresOnTimestamp }. */
    credential(oid: string, extra: Record<string, unknown> = {}) {
      const scopes: string[] = [];
      return {
        scopes,
        async getToken(scope: string | string[]) {
          scopes.push(...(Array.isArray(scope) ? scope : [scope]));
          return { token: token({ oid, ...extra }), expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      };
    },
  };
}
