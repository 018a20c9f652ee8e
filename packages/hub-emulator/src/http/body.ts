import type { IncomingMessage } from 'node:http';
import { HubError } from '../errors.ts';

/** The largest request body the hub's API (and the provisioning service beside it) reads. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * A request's body, refused unread past `MAX_BODY_BYTES` (by its declared length, or as it
 * arrives) with the error `tooLarge` makes: the hub's, or the provisioning service's.
 */
export function readBody(
  request: IncomingMessage,
  tooLarge: () => Error = () =>
    new HubError(
      'RequestEntityTooLarge',
      `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB.`,
    ),
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
