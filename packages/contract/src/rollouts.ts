import { z } from 'zod';
import { DeviceFilterSchema } from './events.ts';
import { JsonObjectSchema } from './json.ts';

/** A change a rollout makes to each twin: a patch of tags and/or desired properties. */
export const RolloutChangeSchema = z
  .object({ tags: JsonObjectSchema.optional(), desired: JsonObjectSchema.optional() })
  .strict()
  .refine(
    (c) => c.tags !== undefined || c.desired !== undefined,
    'A change sets tags or desired properties.',
  );
export type RolloutChange = z.infer<typeof RolloutChangeSchema>;

export const DryRunRequestSchema = z
  .object({
    /** The devices a list filter matches (prefix, tags, WHERE clause), as the list sends it. */
    filter: DeviceFilterSchema,
    change: RolloutChangeSchema,
  })
  .strict();
export type DryRunRequest = z.infer<typeof DryRunRequestSchema>;

const SectionsSchema = z.object({
  tags: JsonObjectSchema.optional(),
  desired: JsonObjectSchema.optional(),
});

/** What a rollout would do, read from the hub without changing anything. */
export const DryRunResponseSchema = z.object({
  /** Devices the filter matches now. */
  targets: z.number(),
  /** How many already hold the change (null when the query language cannot tell). */
  unchanged: z.number().nullable(),
  willChange: z.number().nullable(),
  /** Why `unchanged` is unknown, when it is. */
  unknownReason: z.string().optional(),
  /** Some devices the change would change: the touched sections before and after. */
  sample: z.array(
    z.object({ deviceId: z.string(), before: SectionsSchema, after: SectionsSchema }),
  ),
  estimate: z.object({
    /** The hub's twin update rate this BFF budgets (null: no limit, the emulator unthrottled). */
    twinUpdatesPerSecond: z.number().nullable(),
    /** At that rate, how long the writes take at the least (null: no limit to compute from). */
    seconds: z.number().nullable(),
    /** Queries the dry run spent (of the hub's query budget). */
    queries: z.number(),
  }),
});
export type DryRunResponse = z.infer<typeof DryRunResponseSchema>;
