import { z } from 'zod';
import { JsonObjectSchema } from './json.ts';

export const AuditActionSchema = z.enum([
  'twin.patch',
  'twin.replace',
  'module.create',
  'module.update',
  'module.delete',
  'module.reveal-connection-string',
  'device.create',
  'device.update',
  'device.delete',
  'device.reveal-connection-string',
  'method.invoke',
  'message.send',
  'message.purge',
  'configuration.create',
  'configuration.update',
  'configuration.delete',
  'rollout.create',
  'rollout.approve',
  'rollout.pause',
  'rollout.resume',
  'rollout.cancel',
  'rollout.rollback',
  /** A wave's verdict: passed (succeeded) or past the failure threshold (failed). */
  'rollout.wave',
  /** A rollout's write to one twin, and its undoing. */
  'rollout.write',
  'rollout.revert',
  /** An IoT Edge device's deployment set by hand ("Set modules"). */
  'edge.set-modules',
  'edge.restart-module',
  /** Provisioning (DPS): enrollment groups, individual enrollments, registration records. */
  'provisioning.group-create',
  'provisioning.group-update',
  'provisioning.group-delete',
  'provisioning.enrollment-create',
  'provisioning.enrollment-update',
  'provisioning.enrollment-delete',
  'provisioning.registration-delete',
  /** The hub's bulk jobs: an export (keys or not), an import (with what it was to do). */
  'fleet.export',
  'fleet.import',
  /** What the overview shows: the tag it groups by, the desired keys it checks. */
  'fleet.overview-settings',
  /** A list view shared with the team, and a shared one deleted. */
  'fleet.view-share',
  'fleet.view-delete',
]);
export type AuditAction = z.infer<typeof AuditActionSchema>;

const VersionsSchema = z.object({
  etag: z.string().optional(),
  version: z.number().optional(),
  desiredVersion: z.number().optional(),
});

/**
 * One write as the audit trail holds it. `unknown` means the attempt was recorded but its
 * outcome never was (the BFF stopped mid-write): check the twin.
 */
export const AuditEntrySchema = z.object({
  id: z.uuid(),
  at: z.string(),
  actor: z.object({ id: z.string(), name: z.string() }),
  action: AuditActionSchema,
  /** A device or module; for an automatic configuration, its id (and deviceId ''). */
  target: z.object({
    deviceId: z.string(),
    moduleId: z.string().optional(),
    configurationId: z.string().optional(),
    /** The rollout the record belongs to (its own actions, and each of its twin writes). */
    rolloutId: z.string().optional(),
    /** A provisioning record: an enrollment group, an individual enrollment, a registration. */
    provisioning: z
      .object({ kind: z.enum(['group', 'individual', 'registration']), id: z.string() })
      .optional(),
  }),
  /** What was asked: the twin patch, or the identity change (never a key). */
  change: JsonObjectSchema,
  /** A change too large to keep whole (over 32 KB): its size and SHA-256, `change` empty. */
  changeDigest: z.object({ sha256: z.string(), bytes: z.number() }).optional(),
  before: VersionsSchema.optional(),
  after: VersionsSchema.optional(),
  /** The patch that undoes this twin change (keys it set back, keys it added as null). */
  revert: z
    .object({ tags: JsonObjectSchema.optional(), desired: JsonObjectSchema.optional() })
    .optional(),
  /** The revert patch was too large to keep: this change cannot be reverted from here. */
  revertOmitted: z.boolean().optional(),
  revertOf: z.string().optional(),
  /** What the hub or device answered, when it is worth keeping (a direct method's status). */
  response: z.object({ status: z.number() }).optional(),
  result: z.enum(['succeeded', 'refused', 'failed', 'unknown']),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  finishedAt: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** A page of a twin's history, newest first. */
export const AuditHistoryQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(50).default(20),
    /** The `next` cursor of the page before. */
    before: z
      .string()
      .regex(/^\d{1,15}$/, 'before is the next cursor of a previous page.')
      .optional(),
  })
  .strict();
export type AuditHistoryQuery = z.infer<typeof AuditHistoryQuerySchema>;

export const AuditHistoryResponseSchema = z.object({
  entries: z.array(AuditEntrySchema),
  /** Older entries exist: ask again with `before` set to this. */
  next: z.string().optional(),
});
export type AuditHistoryResponse = z.infer<typeof AuditHistoryResponseSchema>;

/** The fleet-wide audit page and the export: filters, newest first, a page at a time. */
export const AuditSearchQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z
      .string()
      .regex(/^\d{1,15}$/, 'before is the next cursor of a previous page.')
      .optional(),
    /** A person: their id, or any part of their name. */
    actor: z.string().max(200).optional(),
    deviceId: z.string().max(128).optional(),
    /** What kind of action: twin, method, message, device or module. */
    kind: z
      .enum([
        'twin',
        'method',
        'message',
        'device',
        'module',
        'configuration',
        'rollout',
        'provisioning',
        'fleet',
      ])
      .optional(),
    from: z.iso
      .datetime({ offset: true, message: 'from is a date and time (ISO 8601).' })
      .optional(),
    to: z.iso.datetime({ offset: true, message: 'to is a date and time (ISO 8601).' }).optional(),
  })
  .strict();
export type AuditSearchQuery = z.infer<typeof AuditSearchQuerySchema>;

/** What the fleet's audit is filtered by (the search query without its paging). */
export interface AuditFilter {
  /** A person: their id or name (any part of it). */
  actor?: string;
  deviceId?: string;
  /** A kind of action: `twin`, `method`, `message`, `device`, `module`. */
  kind?: string;
  from?: string;
  to?: string;
}
