import { z } from 'zod';
import { JsonValueSchema } from './json.ts';

const encoder = new TextEncoder();
/** Bytes of a text in UTF-8 (here and in the browser alike). */
export const utf8Bytes = (text: string): number => encoder.encode(text).length;

/** IoT Hub: direct method payloads (request and response) are JSON of at most 128 KB. */
export const METHOD_PAYLOAD_MAX_BYTES = 128 * 1024;

/**
 * Method names: printable US-ASCII without $ ( ) < > @ , ; : \ " / [ ] ? = { } space or tab
 * (IoT Hub's rule for what a device receives on its methods topic).
 */
export const MethodNameSchema = z
  .string()
  .min(1, 'Give the method name.')
  .max(128, 'Method names are at most 128 characters.')
  .regex(
    /^[!#%&'*+\-.0-9A-Z^_`a-z|~]+$/,
    'Method names are printable ASCII without $ ( ) < > @ , ; : \\ " / [ ] ? = { } or spaces.',
  );

export const MethodInvokeRequestSchema = z
  .object({
    methodName: MethodNameSchema,
    /** Any JSON; null when the method takes none. */
    payload: JsonValueSchema.default(null).refine(
      (value) => utf8Bytes(JSON.stringify(value ?? null)) <= METHOD_PAYLOAD_MAX_BYTES,
      'The payload is over 128 KB, the most IoT Hub carries.',
    ),
    /** How long the hub waits for the answer once the method reached the device: 5–300 s. */
    responseTimeoutInSeconds: z.number().int().min(5).max(300).default(30),
    /** How long the hub waits for an offline device to connect first: 0–300 s. */
    connectTimeoutInSeconds: z.number().int().min(0).max(300).default(0),
  })
  .strict();
export type MethodInvokeRequest = z.infer<typeof MethodInvokeRequestSchema>;

export const MethodInvokeResponseSchema = z.object({
  /** The status the device or module answered with. */
  status: z.number(),
  payload: JsonValueSchema,
  /** How long the call took, end to end, as the BFF saw it. */
  durationMs: z.number(),
});
export type MethodInvokeResponse = z.infer<typeof MethodInvokeResponseSchema>;

/** One call as the recent-invocations list shows it (from the audit trail). */
export const MethodInvocationSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({ id: z.string(), name: z.string() }),
  methodName: z.string(),
  /** The device's status; none when the call failed (offline, timeout, refused). */
  status: z.number().optional(),
  result: z.enum(['succeeded', 'refused', 'failed', 'unknown']),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** The request payload as recorded (large ones are not kept). */
  payload: JsonValueSchema.optional(),
});
export type MethodInvocation = z.infer<typeof MethodInvocationSchema>;

export const MethodInvocationsResponseSchema = z.object({
  invocations: z.array(MethodInvocationSchema),
});
export type MethodInvocationsResponse = z.infer<typeof MethodInvocationsResponseSchema>;
