import { z } from 'zod';
import { DeviceFilterSchema } from './events.ts';
import { ModuleIdSchema } from './ids.ts';
import { JsonObjectSchema } from './json.ts';
import { MethodInvokeRequestSchema } from './methods.ts';

/**
 * A change a rollout makes to each target: a patch of tags and/or desired properties, or a
 * direct method call (which has no before, so it is not rolled back).
 */
export const RolloutChangeSchema = z
  .object({
    tags: JsonObjectSchema.optional(),
    desired: JsonObjectSchema.optional(),
    method: MethodInvokeRequestSchema.optional(),
  })
  .strict()
  .refine(
    (c) => c.tags !== undefined || c.desired !== undefined || c.method !== undefined,
    'A change sets tags or desired properties, or calls a direct method.',
  )
  .refine(
    (c) => c.method === undefined || (c.tags === undefined && c.desired === undefined),
    'A change either writes the twin or calls a direct method, not both.',
  );
export type RolloutChange = z.infer<typeof RolloutChangeSchema>;

export const DryRunRequestSchema = z
  .object({
    /** The devices a list filter matches (prefix, tags, WHERE clause), as the list sends it. */
    filter: DeviceFilterSchema,
    /** When set, the change is for this module of each of those devices (its module twin). */
    moduleId: ModuleIdSchema.optional(),
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
    z.object({
      deviceId: z.string(),
      moduleId: z.string().optional(),
      before: SectionsSchema,
      after: SectionsSchema,
    }),
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

/**
 * When a device (or module) counts as done: the write landed; its reported properties
 * mirror every desired value of the change; or a query on it (a WHERE condition, typically
 * on reported properties) holds. Not met within the time limit: the device failed.
 */
export const SuccessConditionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('written') }).strict(),
  z
    .object({ kind: z.literal('mirrors'), timeoutSeconds: z.number().int().min(1).max(86_400) })
    .strict(),
  z
    .object({
      kind: z.literal('query'),
      where: z.string().trim().min(1).max(2000),
      timeoutSeconds: z.number().int().min(1).max(86_400),
    })
    .strict(),
]);
export type SuccessCondition = z.infer<typeof SuccessConditionSchema>;

/** How a rollout goes: a canary, then waves each `growth` times the one before. */
export const RolloutPlanSchema = z
  .object({
    canary: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('count'), value: z.number().int().min(1).max(100_000) }).strict(),
      z.object({ kind: z.literal('percent'), value: z.number().min(0.01).max(100) }).strict(),
    ]),
    growth: z.number().min(1).max(100),
    /** At most this many waves: the last takes every device left. */
    maxWaves: z.number().int().min(1).max(50),
    success: SuccessConditionSchema,
    /** The share of a wave's devices (percent) that may fail; above it the rollout stops. */
    failureThreshold: z.number().min(0).max(100),
    /** An Admin approves before the waves after the canary start. */
    approval: z.boolean(),
  })
  .strict();
export type RolloutPlan = z.infer<typeof RolloutPlanSchema>;

/**
 * The planned size of each wave: the canary (a count, or a share of the targets rounded up),
 * then each wave `growth` times the one before, until every target has a wave; at most
 * `maxWaves` waves (the last takes every target left).
 */
export function waveSizes(total: number, plan: RolloutPlan): number[] {
  if (total <= 0) return [];
  const canary =
    plan.canary.kind === 'count'
      ? plan.canary.value
      : Math.max(1, Math.ceil((total * plan.canary.value) / 100));
  const sizes: number[] = [];
  let left = total;
  let size = Math.min(canary, total);
  while (left > 0) {
    if (sizes.length === plan.maxWaves - 1 || size >= left) {
      sizes.push(left);
      break;
    }
    sizes.push(size);
    left -= size;
    size = Math.max(size + 1, Math.ceil(size * plan.growth));
  }
  return sizes;
}

export const RolloutRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    filter: DeviceFilterSchema,
    moduleId: ModuleIdSchema.optional(),
    change: RolloutChangeSchema,
    plan: RolloutPlanSchema,
  })
  .strict();
export type RolloutRequest = z.infer<typeof RolloutRequestSchema>;

export const RolloutStatusSchema = z.enum([
  /** Finding its targets and checking no other active rollout holds them. */
  'preparing',
  'running',
  'awaiting_approval',
  'paused',
  /** Stopped by itself: a wave failed more than the threshold allows (or the targets clash). */
  'stopped',
  'cancelled',
  'completed',
  'rolling_back',
  'rolled_back',
]);
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;

/** Where each target is: what was written to it, whether it met the condition, its undoing. */
export const RolloutTargetStateSchema = z.enum([
  'pending',
  /** The write was sent; whether it landed is checked before anything else is done. */
  'writing',
  /** Already held the change: nothing was written. */
  'unchanged',
  /** Written; waiting for the success condition. */
  'written',
  'succeeded',
  'failed',
  /** Gone since the rollout began (deleted), or its write was refused for good. */
  'skipped',
  'reverted',
  /** Changed by someone else since it was written: rollback left it as it is. */
  'revert_skipped',
]);
export type RolloutTargetState = z.infer<typeof RolloutTargetStateSchema>;

export const RolloutActionSchema = z.enum(['approve', 'pause', 'resume', 'cancel', 'rollback']);
export type RolloutAction = z.infer<typeof RolloutActionSchema>;

/**
 * What each person's action does: from which statuses, to which (the BFF moves by it; the
 * console enables its buttons by it, with the role from the policy's `rollout.<action>`). A
 * direct method rollout has no rollback.
 */
export const ROLLOUT_ACTIONS: Record<
  RolloutAction,
  { from: readonly RolloutStatus[]; to: RolloutStatus }
> = {
  approve: { from: ['awaiting_approval'], to: 'running' },
  pause: { from: ['running', 'awaiting_approval'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['preparing', 'running', 'awaiting_approval', 'paused'], to: 'cancelled' },
  rollback: {
    from: ['stopped', 'cancelled', 'completed', 'paused', 'awaiting_approval'],
    to: 'rolling_back',
  },
};

const CountsSchema = z.record(z.string(), z.number());

export const RolloutSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.object({ id: z.string(), name: z.string() }),
  filter: DeviceFilterSchema,
  moduleId: z.string().optional(),
  change: RolloutChangeSchema,
  plan: RolloutPlanSchema,
  status: RolloutStatusSchema,
  /** What is happening or why it stopped, in an operator's words. */
  message: z.string().optional(),
  /** The wave being written or checked (0: the canary). */
  wave: z.number(),
  /** Planned sizes, once the targets are known. */
  waves: z.array(z.number()),
  total: z.number(),
  /** Targets by state, for the whole rollout and per wave. */
  counts: CountsSchema,
  waveCounts: z.array(CountsSchema),
  approvedBy: z.object({ id: z.string(), name: z.string(), at: z.string() }).optional(),
  /**
   * How the change is made: one write per twin with its etag; one IoT Hub job per wave (a
   * direct method on devices: the same call for every device, no etag); or one call per
   * target (a direct method on modules, which jobs do not reach).
   */
  writeMode: z.enum(['per-twin', 'job', 'per-call']),
  /** The IoT Hub jobs that ran the waves, newest last. */
  jobs: z.array(z.object({ wave: z.number(), jobId: z.string() })),
  /** Twin updates a second achieved over the last wave's writes. */
  writesPerSecond: z.number().nullable(),
});
export type Rollout = z.infer<typeof RolloutSchema>;

/** A page of rollouts, newest first; \`next\` asks for the page after (as \`before\`). */
export const RolloutListSchema = z.object({
  items: z.array(RolloutSchema),
  next: z.string().optional(),
});
export type RolloutList = z.infer<typeof RolloutListSchema>;

export const RolloutListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The \`next\` of the page before: when it started and its id. */
    before: z
      .string()
      .regex(
        /^\d{1,15}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        'before is the next value of the page before.',
      )
      .optional(),
  })
  .strict();
export type RolloutListQuery = z.infer<typeof RolloutListQuerySchema>;

export const RolloutTargetSchema = z.object({
  deviceId: z.string(),
  moduleId: z.string().optional(),
  wave: z.number(),
  state: RolloutTargetStateSchema,
  error: z.string().optional(),
  updatedAt: z.string(),
});
export type RolloutTarget = z.infer<typeof RolloutTargetSchema>;

export const RolloutTargetPageSchema = z.object({
  items: z.array(RolloutTargetSchema),
  next: z.string().optional(),
});
export type RolloutTargetPage = z.infer<typeof RolloutTargetPageSchema>;
