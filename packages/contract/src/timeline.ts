import { z } from 'zod';
import type { AuditEntry } from './audit.ts';
import {
  TelemetryEventSchema,
  type ConnectionEvent,
  type IdentityEvent,
  type MessageFeedbackEvent,
  type TelemetryEvent,
} from './events.ts';
import { DeviceIdSchema, ModuleIdSchema, twinKey } from './ids.ts';
import type { JsonObject } from '@twinscope/twin';
import { JsonObjectSchema } from './json.ts';
import { TwinSectionNameSchema, type TwinSectionName } from './twin.ts';

/** What a device's timeline can show; the page filters by these. */
export const TIMELINE_KINDS = [
  'telemetry',
  'twin',
  'connection',
  'lifecycle',
  'method',
  'message',
  'identity',
] as const;
export const TimelineKindSchema = z.enum(TIMELINE_KINDS);
export type TimelineKind = z.infer<typeof TimelineKindSchema>;

/**
 * One thing that happened to a device or one of its modules. The same event read back from
 * the hub's endpoint and heard live has the same `id`, so the page shows it once.
 */
export const TimelineEntrySchema = z.object({
  id: z.string(),
  kind: TimelineKindSchema,
  /** When it happened (ISO 8601): enqueued by the hub, or recorded by Twinscope. */
  at: z.string(),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  /** One line: what happened. */
  title: z.string(),
  /** Who: a person (Twinscope's audit trail), the device or module, or another back end. */
  by: z.string().optional(),
  result: z.enum(['succeeded', 'refused', 'failed', 'unknown']).optional(),
  /** A device-to-cloud message, decoded. */
  telemetry: TelemetryEventSchema.optional(),
  /** What was changed or sent, as recorded (a twin patch, a method's payload, a message's shape). */
  detail: JsonObjectSchema.optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** How far back a timeline may reach: the endpoint keeps events at most 7 days. */
export const TIMELINE_MAX_DAYS = 7;

export const TimelineQuerySchema = z
  .object({
    /** From when (ISO 8601); an hour ago when not given. */
    since: z.iso
      .datetime({ offset: true, message: 'since is a date and time, e.g. 2026-12-02T10:00:00Z.' })
      .optional(),
    /** Comma-separated kinds; every kind when not given. */
    kinds: z
      .string()
      .max(200)
      .transform((text) => text.split(',').filter(Boolean))
      .pipe(z.array(TimelineKindSchema))
      .optional(),
    /** Only this module's events (the module's own page). */
    moduleId: ModuleIdSchema.optional(),
  })
  .strict();
export type TimelineQuery = z.infer<typeof TimelineQuerySchema>;

export const TimelineResponseSchema = z.object({
  /** Newest first. */
  entries: z.array(TimelineEntrySchema),
  since: z.string(),
  /** False when the read stopped short (too many events, a slow endpoint): older ones may be missing. */
  complete: z.boolean(),
  /** What this timeline could not include, said plainly (no endpoint configured, retention). */
  notes: z.array(z.string()),
});
export type TimelineResponse = z.infer<typeof TimelineResponseSchema>;

/** Newest first, by an ISO 8601 time (timelines, audit pages). */
export const newestFirst = (a: { at: string }, b: { at: string }): number =>
  a.at < b.at ? 1 : a.at > b.at ? -1 : 0;

const sectionWords: Record<TwinSectionName, string> = {
  tags: 'tags',
  desired: 'desired properties',
  reported: 'reported properties',
};

const list = (words: string[]) =>
  words.length <= 1
    ? (words[0] ?? 'the twin')
    : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;

export function timelineFromTelemetry(event: TelemetryEvent): TimelineEntry {
  const output = event.system['iothub-outputname'];
  return {
    id: `telemetry:${event.position}`,
    kind: 'telemetry',
    at: event.enqueuedTime,
    deviceId: event.deviceId,
    ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    title: output ? `Message on output ${output}` : 'Telemetry',
    telemetry: event,
  };
}

/**
 * Who made a twin change Twinscope did not make: only a device or module writes reported
 * properties; tags and desired properties come from another back end.
 */
export function authorOf(sections: readonly TwinSectionName[], moduleId?: string): string {
  const fromDevice = sections.length > 0 && sections.every((s) => s === 'reported');
  if (!fromDevice) return 'another back end';
  return moduleId !== undefined ? 'the module' : 'the device';
}

/**
 * A twin change the hub reported. Only a device or module writes reported properties;
 * tags and desired properties changed outside this Twinscope come from another back end.
 */
export function timelineFromTwinChange(change: {
  deviceId: string;
  moduleId?: string;
  version: number;
  sections: TwinSectionName[];
  at: string;
  patch?: JsonObject;
}): TimelineEntry {
  return {
    id: `twin:${twinKey(change)}:${change.version}`,
    kind: 'twin',
    at: change.at,
    deviceId: change.deviceId,
    ...(change.moduleId !== undefined ? { moduleId: change.moduleId } : {}),
    title: `Changed ${list(change.sections.map((s) => sectionWords[s]))} (version ${change.version})`,
    by: authorOf(change.sections, change.moduleId),
    ...(change.patch ? { detail: change.patch } : {}),
  };
}

export function timelineFromConnection(event: ConnectionEvent): TimelineEntry {
  return {
    id: `connection:${twinKey(event)}:${event.state}:${event.at}`,
    kind: 'connection',
    at: event.at,
    deviceId: event.deviceId,
    ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    title: event.state,
  };
}

export function timelineFromIdentity(event: IdentityEvent, at: string): TimelineEntry {
  const what = event.moduleId !== undefined ? 'Module' : 'Device';
  return {
    id: `lifecycle:${twinKey(event)}:${event.change}:${at}`,
    kind: 'lifecycle',
    at,
    deviceId: event.deviceId,
    ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    title: `${what} ${event.change}`,
  };
}

export function timelineFromFeedback(event: MessageFeedbackEvent): TimelineEntry {
  return {
    id: `feedback:${event.messageId}:${event.statusCode}`,
    kind: 'message',
    at: event.at,
    deviceId: event.deviceId,
    title: `Feedback on message ${event.messageId}: ${event.statusCode}`,
    by: 'the device',
    detail: { messageId: event.messageId, description: event.description },
  };
}

const auditKinds: Record<string, TimelineKind> = {
  twin: 'twin',
  method: 'method',
  message: 'message',
  device: 'identity',
  module: 'identity',
  rollout: 'twin',
  edge: 'twin',
};

/** What a person did from Twinscope, in words. */
function auditTitle(entry: AuditEntry): string {
  const change = entry.change;
  const version = entry.after?.version !== undefined ? ` (version ${entry.after.version})` : '';
  switch (entry.action) {
    case 'twin.patch':
    case 'twin.replace': {
      const words = (['tags', 'desired'] as const)
        .filter((key) => change[key] !== undefined)
        .map((key) => sectionWords[key]);
      const verb = entry.revertOf
        ? 'Reverted'
        : entry.action === 'twin.replace'
          ? 'Replaced'
          : 'Changed';
      return `${verb} ${list(words)}${version}`;
    }
    case 'method.invoke':
      return `Invoked ${String(change['methodName'] ?? 'a method')}${
        entry.response ? `: status ${entry.response.status}` : ''
      }`;
    case 'message.send':
      return `Sent message ${String(change['messageId'] ?? '')}`.trim();
    case 'message.purge':
      return 'Purged the cloud-to-device queue';
    case 'device.create':
    case 'module.create':
      return `Created the ${entry.action.split('.')[0]} identity`;
    case 'device.delete':
    case 'module.delete':
      return `Deleted the ${entry.action.split('.')[0]} identity`;
    case 'device.reveal-connection-string':
    case 'module.reveal-connection-string':
      return 'Revealed the connection string';
    case 'device.update':
    case 'module.update': {
      if (change['status'] === 'disabled') return 'Disabled the identity';
      if (change['status'] === 'enabled') return 'Enabled the identity';
      if (change['regenerateKey'] !== undefined)
        return `Regenerated the ${String(change['regenerateKey'])} key`;
      if (change['managedBy'] !== undefined) return 'Changed who manages the module';
      return 'Changed the identity';
    }
    case 'configuration.create':
    case 'configuration.update':
    case 'configuration.delete':
      return `${{ create: 'Created', update: 'Changed', delete: 'Deleted' }[entry.action.split('.')[1] as 'create']} configuration ${entry.target.configurationId ?? ''}`.trim();
    case 'rollout.write':
    case 'rollout.revert': {
      const words = (['tags', 'desired'] as const)
        .filter((key) => change[key] !== undefined)
        .map((key) => sectionWords[key]);
      return `${entry.action === 'rollout.write' ? 'A rollout changed' : 'A rollback restored'} ${list(words)}${version}`;
    }
    case 'rollout.create':
    case 'rollout.approve':
    case 'rollout.pause':
    case 'rollout.resume':
    case 'rollout.cancel':
    case 'rollout.rollback':
    case 'rollout.wave':
      return `${{ create: 'Started', approve: 'Approved', pause: 'Paused', resume: 'Resumed', cancel: 'Cancelled', rollback: 'Rolled back', wave: 'Judged a wave of' }[entry.action.split('.')[1] as 'create']} a rollout`;
    case 'edge.set-modules':
      return 'Set the IoT Edge modules';
    case 'edge.restart-module':
      return `Restarted IoT Edge module ${String(change['module'] ?? '')}`.trim();
    case 'fleet.export':
      return `Exported the fleet${change['includeKeys'] === true ? ' with keys' : ''}`;
    case 'fleet.import':
      return 'Imported identities';
    case 'fleet.view-share':
      return `Shared the list view ${String(change['name'] ?? '')}`.trim();
    case 'fleet.view-delete':
      return `Deleted the shared list view ${String(change['name'] ?? '')}`.trim();
    case 'fleet.overview-settings':
      return `Set the overview to group by ${String(change['tag'] ?? 'a tag')}`;
    case 'provisioning.group-create':
    case 'provisioning.group-update':
    case 'provisioning.group-delete':
    case 'provisioning.enrollment-create':
    case 'provisioning.enrollment-update':
    case 'provisioning.enrollment-delete':
    case 'provisioning.registration-delete': {
      const [what, verb] = entry.action.slice('provisioning.'.length).split('-') as [
        'group' | 'enrollment' | 'registration',
        'create' | 'update' | 'delete',
      ];
      const noun = {
        group: 'enrollment group',
        enrollment: 'individual enrollment',
        registration: 'registration record',
      }[what];
      return `${{ create: 'Created', update: 'Changed', delete: 'Deleted' }[verb]} ${noun} ${entry.target.provisioning?.id ?? ''}`.trim();
    }
  }
}

export function timelineFromAudit(entry: AuditEntry): TimelineEntry {
  return {
    id: `audit:${entry.id}`,
    kind: auditKinds[entry.action.split('.')[0]!] ?? 'identity',
    at: entry.at,
    deviceId: entry.target.deviceId,
    ...(entry.target.moduleId !== undefined ? { moduleId: entry.target.moduleId } : {}),
    title: auditTitle(entry),
    by: entry.actor.name,
    result: entry.result,
    detail: entry.change,
  };
}

/** One version of a twin in its history: when, what changed, and who. */
export const TwinVersionSchema = z.object({
  version: z.number(),
  at: z.string(),
  sections: z.array(z.enum(['tags', 'desired', 'reported'])),
  opType: z.string(),
  /** A person (a change made from Twinscope), the device or module, or another back end. */
  by: z.string(),
  /** The change was too large to keep: this version cannot be rebuilt. */
  oversized: z.boolean().optional(),
  /** What the hub's event says changed: `section.path: value` lines, at most a few. */
  changes: z.array(z.string()).optional(),
});
export type TwinVersion = z.infer<typeof TwinVersionSchema>;

export const TwinVersionsResponseSchema = z.object({
  /** Newest first. */
  versions: z.array(TwinVersionSchema),
  /** Versions the history never saw (between two it did), shown as gaps. */
  gaps: z.array(z.object({ from: z.number(), to: z.number() })),
  /** Older versions: ask again with `before` set to this. */
  next: z.string().optional(),
  /** Events the history has still to store (it was behind: the database was down). */
  catchingUp: z.number().optional(),
});
export type TwinVersionsResponse = z.infer<typeof TwinVersionsResponseSchema>;

/** A twin version: IoT Hub counts them in a 32-bit integer. */
export const TwinVersionNumberSchema = z.coerce
  .number()
  .int('A twin version is a whole number.')
  .min(1, 'A twin version is a whole number from 1.')
  .max(2_147_483_647, 'A twin version is at most 2147483647.');

export const TwinVersionsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: TwinVersionNumberSchema.optional(),
  })
  .strict();

/** A twin as it was at one version (tags and properties, without IoT Hub's bookkeeping). */
export const TwinAtVersionSchema = z.object({
  version: z.number(),
  tags: JsonObjectSchema,
  desired: JsonObjectSchema,
  reported: JsonObjectSchema,
});
export type TwinAtVersion = z.infer<typeof TwinAtVersionSchema>;

/** Who a twin change came from, as the fleet activity page filters it. */
export const ChangeSourceSchema = z.enum(['twinscope', 'device', 'module', 'backend']);
export type ChangeSource = z.infer<typeof ChangeSourceSchema>;

/** One twin change across the fleet, as the history stored it. */
export const FleetChangeSchema = TwinVersionSchema.extend({
  deviceId: z.string(),
  moduleId: z.string().optional(),
  source: ChangeSourceSchema,
});
export type FleetChange = z.infer<typeof FleetChangeSchema>;

export const FleetActivityResponseSchema = z.object({
  /** Newest first. */
  changes: z.array(FleetChangeSchema),
  /** Older changes: ask again with `before` set to this. */
  next: z.string().optional(),
  /** Events the history has still to store (it was behind: the database was down). */
  catchingUp: z.number().optional(),
});
export type FleetActivityResponse = z.infer<typeof FleetActivityResponseSchema>;

/**
 * Where a page of the fleet's activity ends, as `next` gave it: `time:partition:sequence`,
 * a time JavaScript can hold, a partition and a 64-bit sequence number.
 */
const ActivityCursorSchema = z
  .string()
  .regex(/^\d{1,16}:\d{1,9}:\d{1,19}$/, 'before is the next value of the page before.')
  .refine((cursor) => {
    const [at, , sequence] = cursor.split(':') as [string, string, string];
    return Number(at) <= 8.64e15 && BigInt(sequence) <= 2n ** 63n - 1n;
  }, 'before is the next value of the page before (its time or sequence number is out of range).');

/** A key inside a section: dot-separated names, as in `firmware.version`. */
const KeyPathSchema = z
  .string()
  .trim()
  .min(1)
  .max(512)
  .refine(
    (key) => key.split('.').every((part) => part.length > 0),
    'A key is names separated by dots, as in firmware.version.',
  );

export const FleetActivityQuerySchema = z
  .object({
    deviceId: DeviceIdSchema.optional(),
    moduleId: ModuleIdSchema.optional(),
    section: TwinSectionNameSchema.optional(),
    source: ChangeSourceSchema.optional(),
    key: KeyPathSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The `next` of the page before. */
    before: ActivityCursorSchema.optional(),
  })
  .strict();
export type FleetActivityQuery = z.infer<typeof FleetActivityQuerySchema>;
