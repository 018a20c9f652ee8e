import { isJsonObject, type JsonValue } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Operation, OperationContext } from '../http/operation.ts';
import type { FileUploads, UploadResult } from '../uploads/file-uploads.ts';

function uploadsOf(context: OperationContext): { uploads: FileUploads; deviceId: string } {
  const identity = context.identity;
  if (!identity) throw new HubError('IotHubUnauthorizedAccess', 'A device token is required.');
  if (!context.fileUploads) throw new HubError('ServerError', 'File upload is not wired.');
  return { uploads: context.fileUploads, deviceId: identity.deviceId };
}

/** The body of an upload's completion; every SDK sends these four fields (Node puts the id in the path). */
function resultOf(body: JsonValue | undefined): UploadResult & { correlationId?: unknown } {
  if (!isJsonObject(body) || typeof body['isSuccess'] !== 'boolean') {
    throw new HubError(
      'ArgumentInvalid',
      'The completion needs {"correlationId", "isSuccess", "statusCode", "statusDescription"}.',
    );
  }
  return {
    correlationId: body['correlationId'],
    isSuccess: body['isSuccess'],
    statusCode: typeof body['statusCode'] === 'number' ? body['statusCode'] : 0,
    statusDescription:
      typeof body['statusDescription'] === 'string' ? body['statusDescription'] : '',
  };
}

/**
 * File upload, the device's side: a SAS URI for a blob, then the upload's completion
 * (`/files/notifications` with the correlation id in the body, as .NET, Java, Python and C
 * send it, or in the path, as Node does).
 */
export const deviceFileOperations: Operation[] = [
  {
    name: 'start-file-upload',
    method: 'POST',
    path: '/devices/{deviceId}/files',
    rights: ['DeviceConnect'],
    deviceSide: true,
    async handle(context) {
      const { uploads } = uploadsOf(context);
      const body = isJsonObject(context.body) ? context.body : {};
      const started = await uploads.start(context.identity!, body['blobName']);
      return { status: 200, body: { ...started } };
    },
  },
  {
    name: 'complete-file-upload',
    method: 'POST',
    path: '/devices/{deviceId}/files/notifications',
    rights: ['DeviceConnect'],
    deviceSide: true,
    async handle(context) {
      const { uploads } = uploadsOf(context);
      const result = resultOf(context.body);
      await uploads.complete(context.identity!, result.correlationId, result);
      return { status: 204 };
    },
  },
  {
    name: 'complete-file-upload-by-path',
    method: 'POST',
    path: '/devices/{deviceId}/files/notifications/{correlationId}',
    rights: ['DeviceConnect'],
    deviceSide: true,
    async handle(context) {
      const { uploads } = uploadsOf(context);
      const result = resultOf(context.body);
      await uploads.complete(context.identity!, context.params['correlationId'], result);
      return { status: 204 };
    },
  },
];
