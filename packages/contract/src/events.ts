import { z } from 'zod';
import { JsonValueSchema } from './json.ts';
import { DeviceIdSchema, ModuleIdSchema, TwinRefSchema, twinKey } from './ids.ts';
import { TwinSchema, TwinSectionNameSchema } from './twin.ts';
import { AuditEntrySchema } from './audit.ts';

export const FeedStatusSchema = z.object({
  source: z.enum(['polling', 'event-hubs']),
  healthy: z.boolean(),
  message: z.string().optional(),
});
export type FeedStatus = z.infer<typeof FeedStatusSchema>;

/** First event on every stream: its id (for watch requests) and the change feed's state. */
export const HelloEventSchema = z.object({
  type: z.literal('hello'),
  streamId: z.string(),
  feed: FeedStatusSchema,
  /** The tab missed events the BFF no longer holds: refetch what is on screen. */
  resync: z.boolean().optional(),
});

export const TwinChangedEventSchema = z.object({
  type: z.literal('twin'),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  version: z.number(),
  sections: z.array(TwinSectionNameSchema),
  /** The twin after the change. */
  twin: TwinSchema,
  /** `console` for writes made through this BFF, `hub` for changes seen on the hub. */
  origin: z.enum(['console', 'hub']),
});
export type TwinChangedEvent = z.infer<typeof TwinChangedEventSchema>;

export const IdentityEventSchema = z.object({
  type: z.literal('identity'),
  change: z.enum(['created', 'deleted']),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  /** When the hub saw it (ISO 8601), when it came from the hub's lifecycle events. */
  at: z.string().optional(),
});
export type IdentityEvent = z.infer<typeof IdentityEventSchema>;

export const FeedEventSchema = z.object({ type: z.literal('feed'), feed: FeedStatusSchema });

/** The hub's feedback on a cloud-to-device message sent from Twinscope. */
export const MessageFeedbackEventSchema = z.object({
  type: z.literal('message-feedback'),
  deviceId: z.string(),
  messageId: z.string(),
  statusCode: z.string(),
  description: z.string(),
  at: z.string(),
});
export type MessageFeedbackEvent = z.infer<typeof MessageFeedbackEventSchema>;

/** A device or module connected or disconnected (IoT Hub's connection state events). */
export const ConnectionEventSchema = z.object({
  type: z.literal('connection'),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  state: z.enum(['Connected', 'Disconnected']),
  /** When the hub saw it (ISO 8601). */
  at: z.string(),
});
export type ConnectionEvent = z.infer<typeof ConnectionEventSchema>;

/** A device-to-cloud message (telemetry or a module's output event) as a tab sees it. */
export const TelemetryEventSchema = z.object({
  type: z.literal('telemetry'),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  /** When the hub took it (ISO 8601). */
  enqueuedTime: z.string(),
  /** Where it sits in the endpoint: `partition:sequenceNumber`. */
  position: z.string(),
  /** JSON when it parses as JSON, UTF-8 text when it decodes, otherwise hex. */
  body: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('json'), value: JsonValueSchema }),
    z.object({ kind: z.literal('text'), text: z.string() }),
    z.object({ kind: z.literal('binary'), hex: z.string() }),
  ]),
  /** Its size in bytes; a body over 16 KB is cut there (`truncated`). */
  bytes: z.number(),
  truncated: z.boolean().optional(),
  /** Application properties. */
  properties: z.record(z.string(), z.string()),
  /** System properties: message id, correlation id, content type and encoding, output name. */
  system: z.record(z.string(), z.string()),
});
export type TelemetryEvent = z.infer<typeof TelemetryEventSchema>;

/** Telemetry the tab asked for but was not sent, over its rate limit, since the last notice. */
export const TelemetryDroppedEventSchema = z.object({
  type: z.literal('telemetry-dropped'),
  dropped: z.number(),
  /** The limit that was exceeded, messages a second per tab. */
  limitPerSecond: z.number(),
});

/** Something done from Twinscope, as its audit trail records it: to the tabs watching its target. */
export const ActivityEventSchema = z.object({
  type: z.literal('activity'),
  entry: AuditEntrySchema,
});

/**
 * Twin changes across the fleet were stored in the history (at most one a second, with how
 * many): to the tabs showing the fleet's activity, which refresh.
 */
export const FleetChangesEventSchema = z.object({
  type: z.literal('fleet-changes'),
  count: z.number(),
});

/**
 * The twins' history now holds this version of a twin (the change was stored, or a snapshot
 * taken): to the tabs watching that twin, whose versions list reads it again.
 */
export const VersionStoredEventSchema = z.object({
  type: z.literal('version-stored'),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  version: z.number(),
});
export type VersionStoredEvent = z.infer<typeof VersionStoredEventSchema>;

/** A rollout changed (status, progress): to the tabs showing rollouts, which refetch it. */
export const RolloutEventSchema = z.object({ type: z.literal('rollout'), id: z.string() });

/** The sign-in session behind the stream is over: go to sign-in instead of reconnecting. */
export const SessionEndedEventSchema = z.object({ type: z.literal('session-ended') });

export const LiveEventSchema = z.discriminatedUnion('type', [
  HelloEventSchema,
  TwinChangedEventSchema,
  IdentityEventSchema,
  FeedEventSchema,
  MessageFeedbackEventSchema,
  ConnectionEventSchema,
  TelemetryEventSchema,
  TelemetryDroppedEventSchema,
  ActivityEventSchema,
  FleetChangesEventSchema,
  VersionStoredEventSchema,
  RolloutEventSchema,
  SessionEndedEventSchema,
]);
export type LiveEvent = z.infer<typeof LiveEventSchema>;

/** Every SSE event name (a browser hears a named event only if it listens for that name). */
export const LIVE_EVENT_TYPES: readonly LiveEvent['type'][] = LiveEventSchema.options.map(
  (option) => option.shape.type.value,
);

/** The devices and modules whose telemetry a tab shows (a device's own messages, or a module's). */
export const TelemetryTargetSchema = z
  .object({
    deviceId: DeviceIdSchema,
    moduleId: ModuleIdSchema.optional(),
    /** With a device: its modules' messages too (a device's timeline). */
    modules: z.literal(true).optional(),
  })
  .strict();
export type TelemetryTarget = z.infer<typeof TelemetryTargetSchema>;

/** A telemetry watch's key: `dev`, `dev/mod`, or `dev/*` for a device and all its modules. */
export const telemetryTargetKey = (target: TelemetryTarget): string =>
  target.modules && target.moduleId === undefined ? `${target.deviceId}/*` : twinKey(target);

/** The device list's filter, as the list sends it. */
export const DeviceFilterSchema = z
  .object({
    prefix: z.string().max(128).optional(),
    tags: z.array(z.string().max(512)).max(20).optional(),
    where: z.string().max(4000).optional(),
  })
  .strict();
export type DeviceFilterRequest = z.infer<typeof DeviceFilterSchema>;

export const TelemetryWatchRequestSchema = z
  .object({
    targets: z.array(TelemetryTargetSchema).max(1000),
    /** Every device this list filter matches (and their modules), resolved when sent. */
    filter: DeviceFilterSchema.optional(),
  })
  .strict();
export type TelemetryWatchRequest = z.infer<typeof TelemetryWatchRequestSchema>;

/** The most devices a list filter's telemetry follows; past it, the page says so. */
export const TELEMETRY_FILTER_MAX_DEVICES = 5000;

export const TelemetryWatchResponseSchema = z.object({
  /** Devices the filter matched when it was resolved (at most the maximum). */
  devices: z.number(),
  /** More devices matched than are followed. */
  capped: z.boolean(),
});
export type TelemetryWatchResponse = z.infer<typeof TelemetryWatchResponseSchema>;

/** What a tab is looking at; the BFF watches these twins for changes made elsewhere. */
export const WatchRequestSchema = z
  .object({
    twins: z.array(TwinRefSchema).max(1000),
    /** Every audit record of the fleet as it is written (the audit page; Operators and Admins). */
    audit: z.boolean().optional(),
    /** That twin changes across the fleet were stored (the fleet activity page). */
    fleet: z.boolean().optional(),
    /** That rollouts changed (the rollout pages). */
    rollouts: z.boolean().optional(),
  })
  .strict();
export type WatchRequest = z.infer<typeof WatchRequestSchema>;
