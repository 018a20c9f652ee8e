import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The one error every layer of the emulator raises (store, query, auth, HTTP, MQTT, AMQP),
 * and the wire shapes IoT Hub gives it: each transport turns a HubError into its own form.
 *
 * IoT Hub's error codes, with the HTTP status and numeric code the service uses. The
 * name is what azure-iothub reads (`ErrorCode:<Name>;<message>`) to pick its error class.
 */
const CODES = {
  ArgumentInvalid: [400, 400004],
  ArgumentNull: [400, 400005],
  IotHubFormatError: [400, 400006],
  InvalidProtocolVersion: [400, 400001],
  BulkRegistryOperationFailure: [400, 400013],
  IotHubUnauthorizedAccess: [401, 401002],
  IotHubUnauthorized: [401, 401003],
  DeviceMaximumQueueDepthExceeded: [403, 403004],
  DeviceMaximumActiveFileUploadLimitExceeded: [403, 403006],
  DeviceNotFound: [404, 404001],
  ModuleNotFound: [404, 404010],
  DeviceNotOnline: [404, 404103],
  JobNotFound: [404, 404002],
  ConfigurationNotFound: [404, 404009],
  OperationNotFound: [404, 404000],
  MethodNotAllowed: [405, 405000],
  DeviceAlreadyExists: [409, 409001],
  ModuleAlreadyExistsOnDevice: [409, 409301],
  // The name is what azure-iothub reads; the numeric code is the emulator's.
  JobAlreadyExists: [409, 409005],
  ConfigurationAlreadyExists: [409, 409006],
  TooManyConfigurationsOnHub: [400, 400017],
  CannotModifyImmutableConfigurationContent: [400, 400021],
  PreconditionFailed: [412, 412001],
  DeviceMessageLockLost: [412, 412002],
  RequestEntityTooLarge: [413, 413000],
  UnsupportedMediaType: [415, 415000],
  ThrottlingException: [429, 429001],
  ServerError: [500, 500001],
  ServiceUnavailable: [503, 503001],
  GatewayTimeout: [504, 504101],
} as const;

export type HubErrorCode = keyof typeof CODES;

export class HubError extends Error {
  readonly status: number;
  readonly numericCode: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: HubErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    const [status, numericCode] = CODES[code];
    this.status = status;
    this.numericCode = numericCode;
    this.headers = headers;
  }
}

/** `Tracking ID:<hex>-G:0-TimeStamp:MM/DD/YYYY HH:MM:SS`, the shape the hub puts in ExceptionMessage. */
export function trackingId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${p(now.getUTCMonth() + 1)}/${p(now.getUTCDate())}/${now.getUTCFullYear()} ${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:${p(now.getUTCSeconds())}`;
  return `Tracking ID:${randomBytes(16).toString('hex')}-G:0-TimeStamp:${stamp}`;
}

/** The body azure-iothub parses: `Message` split on `;`, code after `ErrorCode:`. */
export function errorBody(error: HubError): string {
  // The SDK splits Message on ';', so a ';' inside the text would cut it short.
  const text = error.message.replaceAll(';', ',');
  return JSON.stringify({
    Message: `ErrorCode:${error.code};${text}`,
    ExceptionMessage: trackingId(),
  });
}

/** Any failure as a HubError: an unexpected one is the hub's own fault (500). */
export function asHubError(error: unknown): HubError {
  return error instanceof HubError ? error : new HubError('ServerError', 'The emulator failed.');
}

/**
 * The body the device side (MQTT and AMQP twin responses) carries for an error:
 * `{"errorCode":400004,"trackingId":…,"message":…,"timestampUtc":…}`.
 */
export function deviceErrorBody(error: unknown): Buffer {
  const hubError = asHubError(error);
  return Buffer.from(
    JSON.stringify({
      errorCode: hubError.numericCode,
      trackingId: randomUUID(),
      message: hubError.message,
      timestampUtc: new Date().toISOString(),
    }),
  );
}
