import { z } from 'zod';
import { TwinSchema } from './twin.ts';

export const ApiErrorCodeSchema = z.enum([
  'bad_request',
  'validation_failed',
  'twin_rule_violation',
  'unauthorized',
  'forbidden',
  'not_found',
  /** The request named a host this BFF does not answer for (local mode: loopback only). */
  'misdirected_request',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'throttled',
  'hub_unreachable',
  /** The team's database (audit trail, history, rollouts) cannot be reached; the hub may be fine. */
  'database_unavailable',
  /** No storage account is configured for the hub's file uploads: there are no files to show. */
  'file_upload_not_configured',
  /** The storage account holding devices' uploads did not answer (down, hung, refused). */
  'storage_unavailable',
  'hub_error',
  /** A write was sent but its answer never came (timeout, reset): check the twin as it is now. */
  'outcome_unknown',
  /** The device or module is not connected (or does not listen for direct methods). */
  'device_offline',
  /** The device or module did not answer a direct method in time. */
  'device_timeout',
  /** A Plug and Play device's model is not in the model repository (or none is configured). */
  'model_not_found',
  /** The model is there but is not valid DTDL v2 or v3 (the violations say where). */
  'model_invalid',
  /** The model repository (a folder or a URL) could not be read. */
  'model_repository_unavailable',
  'internal_error',
]);
export type ApiErrorCode = z.infer<typeof ApiErrorCodeSchema>;

export const ViolationSchema = z.object({ path: z.string(), message: z.string() });
export type Violation = z.infer<typeof ViolationSchema>;

/** Every error the BFF answers: what happened in an operator's words, and a request id. */
export const ApiErrorSchema = z.object({
  code: ApiErrorCodeSchema,
  message: z.string(),
  requestId: z.string(),
  violations: z.array(ViolationSchema).optional(),
  /** On a conflict: the twin as it is now, so the page can show what changed. */
  current: TwinSchema.optional(),
  retryAfterSeconds: z.number().optional(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;
