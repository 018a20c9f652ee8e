import { z } from 'zod';
import { utf8Bytes } from './methods.ts';

/** IoT Hub: a cloud-to-device message is at most 64 KB, body and property names and values. */
export const CLOUD_MESSAGE_MAX_BYTES = 64 * 1024;
/** IoT Hub keeps a cloud-to-device message 1 min to 2 days (1 h unless told). */
export const CLOUD_MESSAGE_TTL_MAX_SECONDS = 2 * 24 * 3600;

const PropertyName = z
  .string()
  .min(1, 'A property needs a name.')
  .max(128, 'Property names are at most 128 characters.')
  .regex(/^[!-~]+$/, 'Property names are printable ASCII without spaces.')
  .refine(
    (name) => !/^(iothub-|\$)/i.test(name),
    'Names starting with iothub- or $ belong to IoT Hub.',
  );

export const CloudMessageSendRequestSchema = z
  .object({
    body: z.string(),
    /** `json`: the body must be JSON, and goes with content type application/json. */
    format: z.enum(['text', 'json']).default('text'),
    properties: z.record(PropertyName, z.string().max(4096)).default({}),
    messageId: z.string().min(1).max(128).optional(),
    correlationId: z.string().min(1).max(128).optional(),
    /** Seconds until the hub drops the message undelivered (feedback Expired). */
    expiresInSeconds: z.number().int().min(60).max(CLOUD_MESSAGE_TTL_MAX_SECONDS).optional(),
    /** Which outcomes the hub reports as feedback. */
    ack: z.enum(['none', 'positive', 'negative', 'full']).default('full'),
  })
  .strict()
  .superRefine((message, ctx) => {
    if (message.format === 'json') {
      try {
        JSON.parse(message.body);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['body'], message: 'The body is not valid JSON.' });
      }
    }
    const bytes =
      utf8Bytes(message.body) +
      Object.entries(message.properties).reduce(
        (sum, [name, value]) => sum + utf8Bytes(name) + utf8Bytes(value),
        0,
      );
    if (bytes > CLOUD_MESSAGE_MAX_BYTES)
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: `The message is ${Math.ceil(bytes / 1024)} KB; IoT Hub carries at most 64 KB (body and properties).`,
      });
  });
export type CloudMessageSendRequest = z.infer<typeof CloudMessageSendRequestSchema>;

export const FeedbackCodeSchema = z.enum([
  'Success',
  'Expired',
  'DeliveryCountExceeded',
  'Rejected',
  'Purged',
]);
export type FeedbackCode = z.infer<typeof FeedbackCodeSchema>;

/** A message sent from Twinscope, with its feedback once the hub sends it. */
export const SentMessageSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({ id: z.string(), name: z.string() }),
  messageId: z.string(),
  ack: z.string(),
  result: z.enum(['succeeded', 'refused', 'failed', 'unknown']),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  feedback: z
    .object({ statusCode: FeedbackCodeSchema, description: z.string(), at: z.string() })
    .optional(),
});
export type SentMessage = z.infer<typeof SentMessageSchema>;

export const SentMessagesResponseSchema = z.object({
  messages: z.array(SentMessageSchema),
  /** Messages waiting in the device's queue (the hub's cloudToDeviceMessageCount). */
  queued: z.number(),
  /** Whether this BFF reads the hub's feedback (off: another back end takes it). */
  feedback: z.boolean(),
});
export type SentMessagesResponse = z.infer<typeof SentMessagesResponseSchema>;

export const SendMessageResponseSchema = z.object({ messageId: z.string() });
export const PurgeResponseSchema = z.object({ purged: z.number() });
