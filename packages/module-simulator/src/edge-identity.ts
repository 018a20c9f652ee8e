// The Edge device's own credential at work: module identities created, keyed and deleted as
// aziot-identityd does it, with a device token over HTTPS.
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import deviceSdk from 'azure-iot-device';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '@twinscope/twin';

const { SharedAccessSignature } = deviceSdk;

/**
 * The Edge device's own credential, as aziot-identityd uses it: module identities are
 * created, keyed and deleted with a device token (`api-version=2017-11-08-preview`, an
 * unquoted `If-Match: *`), never a service credential.
 */
export class DeviceIdentityClient {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly deviceId: string,
    private readonly key: string,
    private readonly ca: string | undefined,
  ) {}

  /** A device token, as the device SDK signs one. */
  private token(): string {
    return SharedAccessSignature.create(
      this.host,
      this.deviceId,
      this.key,
      Math.floor(Date.now() / 1000) + 3600,
    ).toString();
  }

  call(method: string, moduleId: string, body?: JsonObject, ifMatch?: string) {
    const path = `/devices/${encodeURIComponent(this.deviceId)}/modules/${encodeURIComponent(moduleId)}?api-version=2017-11-08-preview`;
    return new Promise<{ status: number; body: JsonValue | undefined }>((resolve, reject) => {
      const headers: Record<string, string> = { Authorization: this.token() };
      if (body) headers['Content-Type'] = 'application/json; charset=utf-8';
      if (ifMatch) headers['If-Match'] = ifMatch;
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          headers,
          timeout: 30_000,
          ...(this.ca ? { ca: this.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: JsonValue | undefined;
            try {
              parsed = text ? parseJson(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 400 && status !== 404) {
              const message =
                isJsonObject(parsed) && typeof parsed['Message'] === 'string'
                  ? parsed['Message']
                  : text.slice(0, 300);
              reject(new Error(`${method} module ${moduleId}: ${status} ${message}`));
            } else resolve({ status, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} module ${moduleId}: no answer`)));
      req.on('error', reject);
      if (body) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** The module's key: created, or given keys, when it has none yet. */
  async keyOf(moduleId: string): Promise<string> {
    const current = await this.call('GET', moduleId);
    const auth = isJsonObject(current.body) ? current.body['authentication'] : undefined;
    const symmetric = isJsonObject(auth) ? auth['symmetricKey'] : undefined;
    const existing = isJsonObject(symmetric) ? symmetric['primaryKey'] : undefined;
    if (current.status === 200 && typeof existing === 'string' && existing) return existing;
    const key = randomBytes(32).toString('base64');
    await this.call(
      'PUT',
      moduleId,
      {
        moduleId,
        deviceId: this.deviceId,
        managedBy: 'IotEdge',
        authentication: { type: 'sas', symmetricKey: { primaryKey: key, secondaryKey: key } },
      },
      current.status === 200 ? '*' : undefined,
    );
    return key;
  }
}
