import type {
  Configuration,
  ConfigurationInput,
  ConfigurationKind,
  ConfigurationPreview,
} from '@twinscope/contract';
import {
  isJsonObject,
  objectOf,
  validateSectionPatch,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import type { HubAdapter, HubConfiguration } from '../adapters/hub-adapter.ts';
import { AppError } from '../core/app-error.ts';
import { twinRuleError } from '../core/twin-rules.ts';
import type { CallContext } from '../core/call-context.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';

const numbers = (value: unknown): Record<string, number> =>
  Object.fromEntries(
    Object.entries(objectOf(value)).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
const strings = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(objectOf(value)).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );

/** A configuration as the hub stores it → as the console shows it. */
export function configurationOf(hub: HubConfiguration): Configuration {
  const content = objectOf(hub['content']);
  const kind: ConfigurationKind =
    content['modulesContent'] !== undefined
      ? 'edge'
      : content['moduleContent'] !== undefined
        ? 'module'
        : 'device';
  const inner = objectOf(
    content['modulesContent'] ?? content['moduleContent'] ?? content['deviceContent'],
  );
  const system = numbers(objectOf(hub['systemMetrics'])['results']);
  const metrics = objectOf(hub['metrics']);
  return {
    id: String(hub['id']),
    kind,
    priority: typeof hub['priority'] === 'number' ? hub['priority'] : 0,
    targetCondition: typeof hub['targetCondition'] === 'string' ? hub['targetCondition'] : '',
    labels: strings(hub['labels']),
    content: inner,
    metrics: { queries: strings(metrics['queries']), results: numbers(metrics['results']) },
    ...(system['targetedCount'] !== undefined ? { targetedCount: system['targetedCount'] } : {}),
    ...(system['appliedCount'] !== undefined ? { appliedCount: system['appliedCount'] } : {}),
    ...(typeof hub['createdTimeUtc'] === 'string' ? { createdTimeUtc: hub['createdTimeUtc'] } : {}),
    ...(typeof hub['lastUpdatedTimeUtc'] === 'string'
      ? { lastUpdatedTimeUtc: hub['lastUpdatedTimeUtc'] }
      : {}),
    etag: typeof hub['etag'] === 'string' ? hub['etag'] : '',
  };
}

/** `properties.desired.a.b` → the desired patch it stands for; refused when it is not one. */
function desiredPatchOf(key: string, value: JsonValue): JsonObject {
  const parts = key.split('.');
  if (parts[0] !== 'properties' || parts[1] !== 'desired' || parts.slice(2).some((p) => !p))
    throw new AppError(
      'validation_failed',
      `Content keys are properties.desired or properties.desired.<path>: "${key}" is not.`,
    );
  const path = parts.slice(2);
  if (path.length === 0 && !isJsonObject(value))
    throw new AppError('validation_failed', 'properties.desired takes an object.');
  let patch: JsonValue = value;
  for (const part of [...path].reverse()) patch = { [part]: patch };
  return objectOf(patch);
}

/** The query that lists what a target condition selects (a module condition names its FROM). */
function selectFor(kind: 'device' | 'module', condition: string, what: string): string {
  const text = condition.trim();
  if (kind === 'device') return `SELECT ${what} FROM devices WHERE ${text === '*' ? 'true' : text}`;
  if (!/^FROM\s+devices\.modules\b/i.test(text))
    throw new AppError(
      'validation_failed',
      "A module configuration's target condition reads FROM devices.modules WHERE …",
    );
  return `SELECT ${what} ${text}`;
}

/**
 * Automatic device and module configurations, through the hub: listed with their metrics,
 * previewed (what a target condition selects now), created, changed with their etag (a
 * conflict never overwrites; content cannot change, as on IoT Hub) and deleted.
 */
export class ConfigurationService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly audit: AuditTrail,
  ) {}

  async list(context?: CallContext): Promise<Configuration[]> {
    const all = await this.hub.listConfigurations(context);
    return all
      .map(configurationOf)
      .sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  }

  async get(id: string, context?: CallContext): Promise<Configuration> {
    return configurationOf(await this.hub.getConfiguration(id, context));
  }

  async preview(
    kind: 'device' | 'module',
    targetCondition: string,
    context?: CallContext,
  ): Promise<ConfigurationPreview> {
    if (!targetCondition.trim()) return { count: 0, sample: [] };
    const counted = await this.hub.query(
      selectFor(kind, targetCondition, 'COUNT() AS n'),
      {},
      context,
    );
    const count = Number(objectOf(counted.items[0])['n'] ?? 0);
    const sample = await this.hub.query(
      selectFor(kind, targetCondition, kind === 'device' ? 'deviceId' : 'deviceId, moduleId'),
      { pageSize: 10 },
      context,
    );
    return {
      count,
      sample: sample.items.slice(0, 10).map((item) => {
        const row = objectOf(item);
        return {
          deviceId: String(row['deviceId']),
          ...(typeof row['moduleId'] === 'string' ? { moduleId: row['moduleId'] } : {}),
        };
      }),
    };
  }

  async save(
    input: ConfigurationInput,
    actor: Actor,
    context?: CallContext,
  ): Promise<Configuration> {
    const entries = Object.entries(input.content);
    if (entries.length === 0)
      throw new AppError('validation_failed', 'A configuration needs content to apply.');
    for (const [key, value] of entries) {
      const violations = validateSectionPatch('desired', desiredPatchOf(key, value));
      if (violations.length > 0) throw twinRuleError(violations, 'The content');
    }
    const contentKey = input.kind === 'module' ? 'moduleContent' : 'deviceContent';
    if (input.etag !== undefined) {
      const existing = configurationOf(await this.hub.getConfiguration(input.id, context));
      if (JSON.stringify(existing.content) !== JSON.stringify(input.content))
        throw new AppError(
          'validation_failed',
          "A configuration's content cannot change once created (IoT Hub keeps it fixed): create a new configuration with a higher priority instead.",
        );
    }
    const configuration = {
      id: input.id,
      schemaVersion: '1.0',
      content: { [contentKey]: input.content },
      targetCondition: input.targetCondition,
      priority: input.priority,
      labels: input.labels,
      metrics: { queries: input.metrics, results: {} },
    };
    // Every configuration write is in the audit trail, like a twin write: the attempt first.
    const saved = await audited(
      this.audit,
      {
        actor,
        action: input.etag === undefined ? 'configuration.create' : 'configuration.update',
        target: { deviceId: '', configurationId: input.id },
        change: configuration,
        ...(input.etag !== undefined ? { before: { etag: input.etag } } : {}),
      },
      () => this.hub.saveConfiguration(configuration, input.etag, context),
      (result) => ({ etag: String(result['etag'] ?? '') }),
    );
    return configurationOf(saved);
  }

  async remove(id: string, actor: Actor, context?: CallContext): Promise<void> {
    await audited(
      this.audit,
      {
        actor,
        action: 'configuration.delete',
        target: { deviceId: '', configurationId: id },
        change: {},
      },
      () => this.hub.deleteConfiguration(id, context),
    );
  }
}
