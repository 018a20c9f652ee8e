import { z } from 'zod';

/**
 * Moving fleets: the hub's bulk export and import jobs, run from the console. The BFF gives
 * each job a blob container of its own in the hub's storage account (its SAS never reaches
 * the browser), and remembers who ran it and what it expected.
 */

/** The most an import file may hold (JSON lines, one device or module each). */
export const IMPORT_MAX_BYTES = 64 * 1024 * 1024;
/** The most lines of an import the preview and the outcome list one by one. */
export const IMPORT_LISTED_MAX = 2000;

export const IMPORT_MODES = [
  'create',
  'createOrUpdate',
  'createOrUpdateIfMatchETag',
  'update',
  'updateIfMatchETag',
  'updateTwin',
  'updateTwinIfMatchETag',
  'delete',
  'deleteIfMatchETag',
] as const;

export const ExportRequestSchema = z
  .object({
    /** A query condition (`tags.site = 'lyon'`): only the devices it selects are downloaded. */
    filter: z.string().trim().max(4000).optional(),
    /** Keys in the file (an Admin asks on purpose; the file is then a secret). */
    includeKeys: z.boolean().default(false),
  })
  .strict();
export type ExportRequest = z.infer<typeof ExportRequestSchema>;

/** What one line of an import would do, or did. */
export const ImportLineSchema = z.object({
  line: z.number(),
  deviceId: z.string(),
  moduleId: z.string().optional(),
  /** Before the job: what it would do. */
  action: z.enum(['create', 'update', 'delete', 'refused']),
  /** Why the line is refused (preview), or why it failed (outcome). */
  reason: z.string().optional(),
  /**
   * After the job: what happened to it; `unknown` when the job did not complete or its
   * errors log could not be read (a line it did not name may or may not have been applied).
   */
  outcome: z.enum(['succeeded', 'failed', 'unknown']).optional(),
});
export type ImportLine = z.infer<typeof ImportLineSchema>;

export const ImportCountsSchema = z.object({
  lines: z.number(),
  create: z.number(),
  update: z.number(),
  delete: z.number(),
  refused: z.number(),
});
export type ImportCounts = z.infer<typeof ImportCountsSchema>;

/** What an import file would do to the hub as it is now, before anything runs. */
export const ImportPreviewSchema = z.object({
  counts: ImportCountsSchema,
  /** The lines one by one (the first IMPORT_LISTED_MAX); `truncated` when there are more. */
  items: z.array(ImportLineSchema),
  truncated: z.boolean(),
});
export type ImportPreview = z.infer<typeof ImportPreviewSchema>;

export const FleetJobStatusSchema = z.enum([
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'unknown',
]);

/** A bulk job as the console follows it. */
export const FleetJobSchema = z.object({
  jobId: z.string(),
  kind: z.enum(['export', 'import']),
  status: FleetJobStatusSchema,
  /** 0–100, as the hub reports it. */
  progress: z.number(),
  by: z.object({ id: z.string(), name: z.string() }),
  createdAt: z.string(),
  endedAt: z.string().optional(),
  failureReason: z.string().optional(),
  /** Export: the condition its download is filtered by, and whether it holds keys. */
  filter: z.string().optional(),
  includeKeys: z.boolean().optional(),
  /** Import: what was expected, and once the job ended, what happened line by line. */
  counts: ImportCountsSchema.optional(),
  /** Import, once ended: lines that failed (from the job's importErrors.log). */
  failed: z.number().optional(),
  items: z.array(ImportLineSchema).optional(),
  truncated: z.boolean().optional(),
});
export type FleetJob = z.infer<typeof FleetJobSchema>;

export const FleetJobListSchema = z.object({ items: z.array(FleetJobSchema) });
