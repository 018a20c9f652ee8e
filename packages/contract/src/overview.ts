import { z } from 'zod';

/**
 * A dotted path under `tags.` or `properties.desired|reported.` that a query may name: words
 * of letters, digits and `_`, so it goes into a query as it is and can never close a quote
 * or add a clause.
 */
export const TwinKeyPathSchema = z
  .string()
  .max(256)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,9}$/,
    'A key is a dotted path of letters, digits and _ (for example site or firmware.version).',
  );

/** What the team chose to see on the overview (the tag it groups by, the keys it checks). */
export const OverviewSettingsSchema = z
  .object({
    /** The tag the fleet is grouped by (without `tags.`), e.g. `site`. */
    tag: TwinKeyPathSchema,
    /** Desired keys whose reported value should follow (without `properties.desired.`). */
    driftKeys: z.array(TwinKeyPathSchema).max(3),
    /** The same, checked on module twins (`devices.modules`): an Edge module's settings. */
    moduleDriftKeys: z.array(TwinKeyPathSchema).max(3).default([]),
  })
  .strict();
export type OverviewSettings = z.infer<typeof OverviewSettingsSchema>;

/**
 * The settings as stored and as answered: a key a newer replica added is dropped rather than
 * refused, so an older replica or an open tab keeps the rest during a rolling deploy.
 */
export const StoredOverviewSettingsSchema = OverviewSettingsSchema.strip();

export const DEFAULT_OVERVIEW_SETTINGS: OverviewSettings = {
  tag: 'site',
  driftKeys: [],
  moduleDriftKeys: [],
};

/** One bar: what it counts, how many, and the device list condition that lists them. */
export const OverviewBarSchema = z.object({
  label: z.string(),
  count: z.number().int().nonnegative(),
  /** A `WHERE` condition for the device list (absent: not a list of devices). */
  where: z.string().optional(),
});
export type OverviewBar = z.infer<typeof OverviewBarSchema>;

/** How twins follow one desired key: asked, holding it, reporting something else, silent. */
export const OverviewDriftSchema = z.object({
  key: z.string(),
  /** Which twins were counted: devices', or modules' (bars' conditions are for that list). */
  on: z.enum(['devices', 'modules']).default('devices'),
  asked: OverviewBarSchema,
  holds: OverviewBarSchema,
  differs: OverviewBarSchema,
  neverReported: OverviewBarSchema,
});
export type OverviewDrift = z.infer<typeof OverviewDriftSchema>;

export const OverviewConfigurationSchema = z.object({
  id: z.string(),
  kind: z.enum(['device', 'module', 'edge']),
  targeted: z.number().int().nonnegative(),
  applied: z.number().int().nonnegative(),
  where: z.string().optional(),
});

/** What one scheduled look at the hub found. A chart whose queries failed says why. */
export const OverviewSnapshotSchema = z.object({
  /** When it was taken (ISO). */
  takenAt: z.string(),
  /** The hub queries it cost, and how long it took. */
  queries: z.number().int().nonnegative(),
  tookMs: z.number().int().nonnegative(),
  settings: StoredOverviewSettingsSchema,
  devices: z.number().int().nonnegative(),
  connection: z.array(OverviewBarSchema),
  status: z.array(OverviewBarSchema),
  /** The chosen tag's values, most devices first; what did not fit is summed in `others`. */
  tag: z.object({
    key: z.string(),
    bars: z.array(OverviewBarSchema),
    others: z.number().int().nonnegative(),
  }),
  drift: z.array(OverviewDriftSchema),
  edge: z.object({
    devices: OverviewBarSchema,
    failing: OverviewBarSchema,
    /** More Edge devices than one look reads: the failing count covers the first ones. */
    partial: z.boolean(),
  }),
  configurations: z.array(OverviewConfigurationSchema),
  /** Charts whose queries failed this time: their name and the hub's reason. */
  problems: z.array(z.object({ chart: z.string(), message: z.string() })),
});
export type OverviewSnapshot = z.infer<typeof OverviewSnapshotSchema>;

/** A point of a trend: an hour (or a day) and the counts last taken in it. */
export const OverviewPointSchema = z.object({
  at: z.string(),
  devices: z.number().int().nonnegative(),
  connected: z.number().int().nonnegative(),
  /** Twins whose reported value differs from (or never followed) a checked desired key. */
  drifting: z.number().int().nonnegative(),
});
export type OverviewPoint = z.infer<typeof OverviewPointSchema>;

/** The overview as a tab reads it: the last snapshot, its schedule, trends and what is free. */
export const OverviewResponseSchema = z.object({
  /** Absent until the first look at the hub is stored. */
  snapshot: OverviewSnapshotSchema.optional(),
  settings: StoredOverviewSettingsSchema,
  /** How often the hub is looked at, as the hub's tier allows. */
  intervalSeconds: z.number().int().positive(),
  /** When the next look is due (ISO), when known. */
  nextAt: z.string().optional(),
  /** Hourly points over the last 7 days, oldest first. */
  hourly: z.array(OverviewPointSchema),
  /** Daily points over the last 90 days, oldest first. */
  daily: z.array(OverviewPointSchema),
  /** Device-to-cloud messages the event endpoint carried per minute over the last hour. */
  telemetry: z.array(z.object({ at: z.string(), messages: z.number().int().nonnegative() })),
  /** Rollouts that are running or paused. */
  rollouts: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      state: z.string(),
      done: z.number().int().nonnegative(),
      total: z.number().int().nonnegative(),
    }),
  ),
  /**
   * The hub's throttles in use by the team: each class's share used now, summed over the
   * replicas' budgets (over 1: they spend faster together than the hub allows), and the
   * rate; absent when the hub's tier sets no quota.
   */
  quota: z
    .array(z.object({ kind: z.string(), used: z.number().min(0), rate: z.string() }))
    .optional(),
  /** How many replicas' budgets `quota` adds up (those that wrote in the last 30 s). */
  quotaReplicas: z.number().int().positive().optional(),
});
export type OverviewResponse = z.infer<typeof OverviewResponseSchema>;
