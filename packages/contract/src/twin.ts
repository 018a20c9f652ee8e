import { z } from 'zod';
import { JsonObjectSchema } from './json.ts';

export const TwinSectionSchema = JsonObjectSchema;

export const TwinSchema = z.object({
  deviceId: z.string(),
  moduleId: z.string().optional(),
  etag: z.string(),
  version: z.number(),
  status: z.string().optional(),
  connectionState: z.string().optional(),
  lastActivityTime: z.string().optional(),
  modelId: z.string().optional(),
  tags: JsonObjectSchema,
  properties: z.object({
    desired: TwinSectionSchema,
    reported: TwinSectionSchema,
  }),
});
export type Twin = z.infer<typeof TwinSchema>;

export const TwinSectionNameSchema = z.enum(['tags', 'desired', 'reported']);
export type TwinSectionName = z.infer<typeof TwinSectionNameSchema>;

/**
 * A change to a twin's tags and/or desired properties: only changed keys, null deletes.
 * The etag is the twin's as the operator last saw it; the BFF forwards it as If-Match.
 */
export const TwinPatchRequestSchema = z
  .object({
    etag: z
      .string()
      .min(1, 'The twin etag is required, so a change never overwrites one made meanwhile.'),
    tags: JsonObjectSchema.optional(),
    desired: JsonObjectSchema.optional(),
    /** The audit record this patch reverts, so the trail links the two. */
    revertOf: z.uuid().optional(),
  })
  .strict()
  .refine((patch) => patch.tags !== undefined || patch.desired !== undefined, {
    message: 'A patch needs tags or desired.',
  });
export type TwinPatchRequest = z.infer<typeof TwinPatchRequestSchema>;

/** Replaces tags and desired properties wholesale (reported stays the device's). */
export const TwinReplaceRequestSchema = z
  .object({
    etag: z.string().min(1, 'The twin etag is required.'),
    tags: JsonObjectSchema,
    desired: JsonObjectSchema,
  })
  .strict();
export type TwinReplaceRequest = z.infer<typeof TwinReplaceRequestSchema>;

export const TwinResponseSchema = z.object({ twin: TwinSchema });
export type TwinResponse = z.infer<typeof TwinResponseSchema>;
