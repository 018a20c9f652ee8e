/** IoT Hub's limit on a device-to-cloud message, on every transport; a batch counts as one. */
export const D2C_MAX_BYTES = 256 * 1024;

/** The size IoT Hub holds against its message limits: the body plus property names and values. */
export function messageSize(body: Buffer, properties: Record<string, string>): number {
  return body.length + Object.entries(properties).reduce((n, [k, v]) => n + k.length + v.length, 0);
}
