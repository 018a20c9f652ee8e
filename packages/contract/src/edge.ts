import { z } from 'zod';
import { JsonObjectSchema } from './json.ts';

/**
 * IoT Edge on the wire: "Set modules", a device's Edge overview (modules deployed against
 * what the agent reports, the deployment's state, the hierarchy, the automatic deployments)
 * and module logs. Building and checking manifests is in the edge-manifest files.
 */

export const SetModulesRequestSchema = z.object({ modulesContent: JsonObjectSchema }).strict();
export type SetModulesRequest = z.infer<typeof SetModulesRequestSchema>;

/** One module of an Edge device as the console shows it: what is deployed against what runs. */
export const EdgeModuleSchema = z.object({
  name: z.string(),
  system: z.boolean(),
  /** From `$edgeAgent`'s desired properties; absent when the deployment no longer has it. */
  desired: z
    .object({
      image: z.string(),
      status: z.string(),
      restartPolicy: z.string(),
      version: z.string().optional(),
    })
    .optional(),
  /** From `$edgeAgent`'s reported properties; absent when the agent has not reported it. */
  reported: z
    .object({
      image: z.string().optional(),
      runtimeStatus: z.string(),
      statusDescription: z.string().optional(),
      exitCode: z.number().optional(),
      restartCount: z.number(),
      lastStartTimeUtc: z.string().optional(),
      lastExitTimeUtc: z.string().optional(),
      lastRestartTimeUtc: z.string().optional(),
    })
    .optional(),
  /**
   * running: as desired; pending: deployed but not (yet) reported as desired; failed:
   * failed or crash-looping (backoff); stopped: stopped as desired; removing: reported but no
   * longer deployed.
   */
  state: z.enum(['running', 'pending', 'failed', 'stopped', 'removing']),
});
export type EdgeModule = z.infer<typeof EdgeModuleSchema>;

export const EdgeDeploymentRefSchema = z.object({
  id: z.string(),
  priority: z.number(),
  targetCondition: z.string(),
  /** A layered deployment sets paths on top of a whole one. */
  layered: z.boolean(),
  status: z.enum(['Applied', 'Targeted']),
});

export const EdgeOverviewSchema = z.object({
  deviceId: z.string(),
  deviceScope: z.string().optional(),
  parents: z.array(z.string()),
  children: z.array(z.object({ deviceId: z.string(), iotEdge: z.boolean() })),
  /** `$edgeAgent`'s connection: the runtime is offline when it is not connected. */
  runtime: z.object({
    connected: z.boolean(),
    lastActivityTime: z.string().optional(),
    version: z.string().optional(),
  }),
  deployment: z.object({
    /** The desired `$version` of `$edgeAgent`. */
    desiredVersion: z.number(),
    /** The version the agent last processed, and how that went. */
    reportedVersion: z.number().optional(),
    status: z.object({ code: z.number(), description: z.string() }).optional(),
    /** One line for the operator: applied, pending, or what failed. */
    summary: z.string(),
    healthy: z.boolean(),
  }),
  modules: z.array(EdgeModuleSchema),
  /** What is deployed now, as a manifest "Set modules" starts from. */
  manifest: z.object({ modulesContent: JsonObjectSchema }),
  deployments: z.array(EdgeDeploymentRefSchema),
});
export type EdgeOverview = z.infer<typeof EdgeOverviewSchema>;

export const ModuleLogsQuerySchema = z
  .object({
    tail: z.coerce.number().int().min(1).max(5000).default(200),
    /** Unix seconds, RFC 3339, or a duration back from now (15m, 2h, 1d). */
    since: z
      .string()
      .regex(
        /^(\d+|\d+(\.\d+)?[smhdw]|\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2}))$/,
        'since is Unix seconds, an RFC 3339 time or a duration like 15m.',
      )
      .optional(),
    /** A regex the lines must match. */
    filter: z
      .string()
      .max(200)
      .refine((text) => {
        try {
          new RegExp(text);
          return true;
        } catch {
          return false;
        }
      }, 'filter is not a regular expression.')
      .optional(),
  })
  .strict();
export type ModuleLogsQuery = z.infer<typeof ModuleLogsQuerySchema>;

export const ModuleLogsResponseSchema = z.object({
  lines: z.array(z.object({ at: z.string(), level: z.number(), text: z.string() })),
});
export type ModuleLogsResponse = z.infer<typeof ModuleLogsResponseSchema>;
