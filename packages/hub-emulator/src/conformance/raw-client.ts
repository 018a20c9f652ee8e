import { request, Agent } from 'node:https';
import { createSasToken } from '../auth/sas.ts';
import type { RunningEmulator } from '../emulator.ts';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface RawRequest {
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Authorization header; by default a fresh iothubowner token. `null` sends none. */
  authorization?: string | null;
}

/** Plain HTTPS requests to the emulator, for what the SDK cannot send (bad input, odd tokens). */
export function rawClient(emulator: RunningEmulator) {
  const agent = new Agent({ keepAlive: true, ca: emulator.tls.caCert });
  const owner = emulator.policies.find((p) => p.keyName === 'iothubowner')!;
  const ownerToken = () =>
    createSasToken(
      emulator.hostName,
      owner.primaryKey,
      Math.floor(Date.now() / 1000) + 3600,
      owner.keyName,
    );
  const send = (method: string, path: string, options: RawRequest = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      const authorization =
        options.authorization === undefined ? ownerToken() : options.authorization;
      if (authorization !== null) headers['Authorization'] = authorization;
      if (options.body !== undefined && !headers['Content-Type']) {
        headers['Content-Type'] = 'application/json; charset=utf-8';
      }
      const req = request(
        { host: 'localhost', port: emulator.httpsPort, method, path, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.on('error', reject);
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  return { send, ownerToken, close: () => agent.destroy() };
}
