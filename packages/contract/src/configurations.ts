import { z } from 'zod';
import { JsonObjectSchema, JsonValueSchema } from './json.ts';

/** Lower-case letters, digits and `-+%_*!'`, up to 128 characters (IoT Hub's rule). */
export const ConfigurationIdSchema = z
  .string()
  .regex(
    /^[a-z0-9\-+%_*!']{1,128}$/,
    "A configuration id is at most 128 characters: lower-case letters, digits and -+%_*!'.",
  );

/** What a configuration configures: device twins, module twins, or IoT Edge (a deployment). */
export const ConfigurationKindSchema = z.enum(['device', 'module', 'edge']);
export type ConfigurationKind = z.infer<typeof ConfigurationKindSchema>;

/** An automatic configuration as the console shows it. */
export const ConfigurationSchema = z.object({
  id: z.string(),
  kind: ConfigurationKindSchema,
  priority: z.number(),
  targetCondition: z.string(),
  labels: z.record(z.string(), z.string()),
  /** `properties.desired[.path]` → value (device and module configurations). */
  content: JsonObjectSchema,
  /** Custom metrics: name → query, and name → count. */
  metrics: z.object({
    queries: z.record(z.string(), z.string()),
    results: z.record(z.string(), z.number()),
  }),
  targetedCount: z.number().optional(),
  appliedCount: z.number().optional(),
  createdTimeUtc: z.string().optional(),
  lastUpdatedTimeUtc: z.string().optional(),
  etag: z.string(),
});
export type Configuration = z.infer<typeof ConfigurationSchema>;

export const ConfigurationListSchema = z.object({ items: z.array(ConfigurationSchema) });

const MetricQueriesSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Metric names are letters, digits, _ and -.'),
    z.string().min(1).max(4000),
  )
  .refine((m) => Object.keys(m).length <= 5, 'A configuration has at most 5 custom metrics.');

/** Creating or changing a configuration (its content can only be set when it is created). */
export const ConfigurationInputSchema = z
  .object({
    id: ConfigurationIdSchema,
    kind: z.enum(['device', 'module']),
    priority: z.number().int().min(0).max(1_000_000),
    targetCondition: z.string().max(4000),
    labels: z.record(z.string().max(128), z.string().max(512)).default({}),
    content: z.record(z.string().max(512), JsonValueSchema),
    metrics: MetricQueriesSchema.default({}),
    /** For a change: the etag it was read with (a conflict never overwrites). */
    etag: z.string().optional(),
  })
  .strict();
export type ConfigurationInput = z.infer<typeof ConfigurationInputSchema>;

export const ConfigurationPreviewRequestSchema = z
  .object({ kind: z.enum(['device', 'module']), targetCondition: z.string().max(4000) })
  .strict();

/** What a target condition selects now: how many twins, and some of them. */
export const ConfigurationPreviewSchema = z.object({
  count: z.number(),
  sample: z.array(z.object({ deviceId: z.string(), moduleId: z.string().optional() })),
});
export type ConfigurationPreview = z.infer<typeof ConfigurationPreviewSchema>;
