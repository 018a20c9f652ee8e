import { randomBytes } from 'node:crypto';
import {
  applyObjectPatch,
  holdsPatch,
  isJsonObject,
  validateSection,
  validateSectionPatch,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import type { HubQuota } from '@twinscope/hub-quotas';
import { HubError } from '../errors.ts';
import { allRows } from '../query/engine.ts';
import type { Registry } from '../store/registry.ts';
import { violationError } from '../store/twin-writes.ts';
import { readJsonState, writeJsonState } from '../store/private-files.ts';

type Status = 'Targeted' | 'Applied';

interface Configuration {
  id: string;
  schemaVersion: string;
  labels: Record<string, string>;
  content: JsonObject;
  targetCondition: string;
  createdTimeUtc: string;
  lastUpdatedTimeUtc: string;
  priority: number;
  systemMetrics: { results: Record<string, number>; queries: Record<string, string> };
  metrics: { results: Record<string, number>; queries: Record<string, string> };
  etag: string;
}

export interface ConfigurationsOptions {
  /** Where configurations are kept across restarts (none: in memory). */
  file?: string;
  /** F1 hubs hold 10 configurations, the others 100. */
  quota?: HubQuota;
  /** How soon after a change configurations are applied again (tests shorten it). */
  settleMs?: number;
}

/** Lower-case letters, digits and `-+%_*!'`, up to 128 characters (IoT Hub's id rule). */
const CONFIGURATION_ID = /^[a-z0-9\-+%_*!']{1,128}$/;
const MAX_METRICS = 5;

/** `properties.desired` or `properties.desired.a.b`: where content lands in a twin. */
export function desiredPath(key: string): string[] | undefined {
  const parts = key.split('.');
  if (parts[0] !== 'properties' || parts[1] !== 'desired') return undefined;
  if (parts.slice(2).some((p) => p.length === 0)) return undefined;
  return parts.slice(2);
}

/** `{a: {b: value}}` for the path [a, b]; the value itself for the whole section. */
export function patchAt(path: string[], value: JsonValue): JsonObject | undefined {
  if (path.length === 0) return isJsonObject(value) ? value : undefined;
  let patch: JsonValue = value;
  for (const part of [...path].reverse()) patch = { [part]: patch };
  return patch as JsonObject;
}

/** Two patches as one: objects merge member by member, the later value wins otherwise. */
function merge(into: JsonObject, from: JsonObject): JsonObject {
  const out: JsonObject = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const before = out[key];
    out[key] = isJsonObject(before) && isJsonObject(value) ? merge(before, value) : value;
  }
  return out;
}

const DESIRED = 'properties.desired';

/**
 * The desired properties each module of an IoT Edge deployment's `modulesContent` sets: the
 * whole document (`properties.desired`) with layered keys (`properties.desired.modules.x`)
 * set on top of it, shallower first. A whole deployment (`system`) sets both system modules.
 */
export function deploymentDesired(
  modules: JsonObject,
  system: boolean,
  onto: Record<string, JsonObject> = {},
): Record<string, JsonObject> {
  const refuse = (message: string): never => {
    throw new HubError('ArgumentInvalid', message);
  };
  if (system)
    for (const name of ['$edgeAgent', '$edgeHub'])
      if (!isJsonObject(modules[name]) || !isJsonObject(modules[name][DESIRED]))
        refuse(
          `modulesContent needs ${name}: {"${DESIRED}": {…}}; an IoT Edge deployment sets both system modules.`,
        );
  const desiredOf: Record<string, JsonObject> = { ...onto };
  for (const [moduleId, content] of Object.entries(modules)) {
    if (!isJsonObject(content))
      return refuse(`modulesContent.${moduleId} is an object of twin paths.`);
    const whole = content[DESIRED];
    if (whole !== undefined && !isJsonObject(whole))
      return refuse(`modulesContent.${moduleId}["${DESIRED}"] is an object.`);
    let desired: JsonObject = whole ? { ...whole } : { ...(desiredOf[moduleId] ?? {}) };
    for (const [key, value] of Object.entries(content).sort(([a], [b]) => a.length - b.length)) {
      if (key === DESIRED) continue;
      const path = desiredPath(key);
      const layer = path && path.length > 0 ? patchAt(path, value) : undefined;
      if (!layer)
        return refuse(
          `modulesContent.${moduleId}: "${key}" is not a twin path; keys are "${DESIRED}" or "${DESIRED}.<path>".`,
        );
      desired = applyObjectPatch(desired, layer);
    }
    const violations = validateSection('desired', desired);
    if (violations.length > 0) throw violationError(violations);
    desiredOf[moduleId] = desired;
  }
  return desiredOf;
}

/** A whole IoT Edge deployment (not a layer): it sets `$edgeAgent`'s whole desired document. */
function isBaseDeployment(config: Configuration): boolean {
  const modules = config.content['modulesContent'];
  return (
    isJsonObject(modules) &&
    isJsonObject(modules['$edgeAgent']) &&
    modules['$edgeAgent'][DESIRED] !== undefined
  );
}

const overlaps = (a: string[], b: string[]) =>
  a.slice(0, Math.min(a.length, b.length)).every((part, i) => part === b[i]);

/** The rows a device or module configuration's condition selects. */
function targetsOf(
  registry: Registry,
  kind: 'device' | 'module',
  condition: string,
): { deviceId: string; moduleId?: string }[] {
  const text = condition.trim();
  if (!text) return [];
  let sql: string;
  if (kind === 'device') {
    sql =
      text === '*' ? 'SELECT deviceId FROM devices' : `SELECT deviceId FROM devices WHERE ${text}`;
  } else {
    const match = /^FROM\s+devices\.modules(\s+WHERE\s+[\s\S]+)?$/i.exec(text);
    if (!match)
      throw new HubError(
        'ArgumentInvalid',
        "A module configuration's targetCondition reads FROM devices.modules WHERE …",
      );
    sql = `SELECT deviceId, moduleId ${text}`;
  }
  return allRows(registry, sql).flatMap((item) =>
    isJsonObject(item) && typeof item['deviceId'] === 'string'
      ? [
          {
            deviceId: item['deviceId'],
            ...(typeof item['moduleId'] === 'string' ? { moduleId: item['moduleId'] } : {}),
          },
        ]
      : [],
  );
}

function countRows(registry: Registry, sql: string): number {
  return allRows(registry, sql).length;
}

function kindOf(config: { content: JsonObject }): 'device' | 'module' | 'modules' {
  if (config.content['moduleContent'] !== undefined) return 'module';
  if (config.content['modulesContent'] !== undefined) return 'modules';
  return 'device';
}

/**
 * IoT Hub's automatic device and module configurations: stored with their etag, applied to
 * the twins their target condition selects (per path of desired properties, the highest
 * priority wins; a tie goes to the most recently created), marked on each twin
 * (`configurations.<id>.status`), with system metrics (targeted, applied) and custom metrics
 * recomputed shortly after every configuration or twin change. IoT Edge deployments
 * (`modulesContent`) are applied to the IoT Edge devices they target, layers included, and
 * marked on each device's `$edgeAgent` twin.
 */
export class Configurations {
  private readonly configurations = new Map<string, Configuration>();
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private applying = false;
  /** What deployments last wrote to each IoT Edge device. */
  private readonly deployed = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly registry: Registry,
    private readonly options: ConfigurationsOptions = {},
  ) {
    if (options.file)
      for (const config of readJsonState<Configuration>(options.file, 'configurations'))
        this.configurations.set(config.id, config);
    // Twins change: targets, applied content and metrics may change with them.
    this.unsubscribe = registry.changes.subscribe((event) => {
      if (this.applying || this.configurations.size === 0) return;
      if (event.source === 'twinChangeEvents' || event.source === 'deviceLifecycleEvents')
        this.schedule();
    });
    if (this.configurations.size > 0) this.schedule();
  }

  private get limit(): number {
    return this.options.quota?.tier === 'F1' ? 10 : 100;
  }

  private save(): void {
    if (this.options.file) writeJsonState(this.options.file, [...this.configurations.values()]);
  }

  list(): JsonObject[] {
    return [...this.configurations.values()].map(
      (c) => structuredClone(c) as unknown as JsonObject,
    );
  }

  get(id: string): JsonObject {
    const config = this.configurations.get(id);
    if (!config) throw new HubError('ConfigurationNotFound', `Configuration ${id} not found.`);
    return structuredClone(config) as unknown as JsonObject;
  }

  /** `PUT /configurations/{id}`: create, or (with If-Match) update what may change. */
  put(id: string, body: JsonValue | undefined, ifMatch: string | undefined): JsonObject {
    if (!CONFIGURATION_ID.test(id))
      throw new HubError(
        'ArgumentInvalid',
        "A configuration id is at most 128 characters: lower-case letters, digits and -+%_*!'.",
      );
    if (!isJsonObject(body))
      throw new HubError('ArgumentInvalid', 'The body must be a configuration.');
    if (body['id'] !== undefined && body['id'] !== id)
      throw new HubError('ArgumentInvalid', 'The id in the body does not match the path.');
    const existing = this.configurations.get(id);
    const fields = this.parse(body);
    const now = new Date().toISOString();
    let config: Configuration;
    if (ifMatch === undefined) {
      if (existing)
        throw new HubError('ConfigurationAlreadyExists', `Configuration ${id} already exists.`);
      if (this.configurations.size >= this.limit)
        throw new HubError(
          'TooManyConfigurationsOnHub',
          `This hub holds at most ${this.limit} configurations.`,
        );
      config = {
        id,
        schemaVersion: typeof body['schemaVersion'] === 'string' ? body['schemaVersion'] : '1.0',
        ...fields,
        createdTimeUtc: now,
        lastUpdatedTimeUtc: now,
        systemMetrics: { results: {}, queries: {} },
        metrics: { results: {}, queries: fields.metricQueries },
        etag: '',
      };
    } else {
      if (!existing) throw new HubError('ConfigurationNotFound', `Configuration ${id} not found.`);
      if (ifMatch !== '*' && ifMatch !== existing.etag)
        throw new HubError(
          'PreconditionFailed',
          `The configuration's etag does not match; it was changed by someone else.`,
        );
      if (JSON.stringify(fields.content) !== JSON.stringify(existing.content))
        throw new HubError(
          'CannotModifyImmutableConfigurationContent',
          "A configuration's content cannot change: create a new configuration instead.",
        );
      config = {
        ...existing,
        labels: fields.labels,
        targetCondition: fields.targetCondition,
        priority: fields.priority,
        metrics: { results: existing.metrics.results, queries: fields.metricQueries },
        lastUpdatedTimeUtc: now,
      };
    }
    config.etag = randomBytes(6).toString('base64');
    this.configurations.set(id, config);
    this.applyNow();
    this.save();
    return this.get(id);
  }

  private parse(body: JsonObject) {
    const content = body['content'];
    if (!isJsonObject(content))
      throw new HubError('ArgumentInvalid', 'A configuration needs content.');
    const kinds = ['deviceContent', 'moduleContent', 'modulesContent'].filter(
      (k) => content[k] !== undefined,
    );
    if (kinds.length !== 1)
      throw new HubError(
        'ArgumentInvalid',
        'Content holds exactly one of deviceContent, moduleContent or modulesContent.',
      );
    const kind = kinds[0]!;
    const inner = content[kind];
    if (!isJsonObject(inner)) throw new HubError('ArgumentInvalid', `${kind} must be an object.`);
    if (kind === 'modulesContent') {
      // A whole deployment sets both system modules; a layer sets paths on top of one.
      deploymentDesired(
        inner,
        isJsonObject(inner['$edgeAgent']) && inner['$edgeAgent'][DESIRED] !== undefined,
      );
    } else {
      for (const [key, value] of Object.entries(inner)) {
        const path = desiredPath(key);
        const patch = path && patchAt(path, value);
        if (!path || !patch)
          throw new HubError(
            'ArgumentInvalid',
            `${kind} keys are properties.desired or properties.desired.<path>, with an object for the whole section: ${key} is not.`,
          );
        const violations = validateSectionPatch('desired', patch);
        if (violations.length > 0) throw violationError(violations);
      }
    }
    const targetCondition = body['targetCondition'] ?? '';
    if (typeof targetCondition !== 'string')
      throw new HubError('ArgumentInvalid', 'targetCondition must be a string.');
    const priority = body['priority'] ?? 0;
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0)
      throw new HubError('ArgumentInvalid', 'priority must be a whole number from 0.');
    const labels = body['labels'] ?? {};
    if (!isJsonObject(labels) || Object.values(labels).some((v) => typeof v !== 'string'))
      throw new HubError('ArgumentInvalid', 'labels must map names to strings.');
    const metrics = body['metrics'];
    const queries =
      isJsonObject(metrics) && isJsonObject(metrics['queries']) ? metrics['queries'] : {};
    if (Object.keys(queries).length > MAX_METRICS)
      throw new HubError(
        'ArgumentInvalid',
        `A configuration has at most ${MAX_METRICS} custom metrics.`,
      );
    const metricQueries: Record<string, string> = {};
    for (const [name, query] of Object.entries(queries)) {
      if (typeof query !== 'string')
        throw new HubError('ArgumentInvalid', `Metric ${name} must be a query.`);
      metricQueries[name] = query;
    }
    // Conditions and metric queries the query language refuses are refused now.
    const errors = this.testQueries(
      targetCondition,
      metricQueries,
      kind === 'moduleContent' ? 'module' : 'device',
    );
    const firstError =
      errors.targetConditionError || Object.values(errors.customMetricQueryErrors).find(Boolean);
    if (firstError) throw new HubError('ArgumentInvalid', firstError);
    return {
      content,
      targetCondition,
      priority,
      labels: labels as Record<string, string>,
      metricQueries,
    };
  }

  /** `POST /configurations/testQueries`: what is wrong with a condition and metric queries. */
  testQueries(
    targetCondition: string,
    metricQueries: Record<string, string>,
    kind: 'device' | 'module' = /^\s*FROM\s+devices\.modules/i.test(targetCondition)
      ? 'module'
      : 'device',
  ): { targetConditionError: string; customMetricQueryErrors: Record<string, string> } {
    const message = (work: () => unknown) => {
      try {
        work();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    return {
      targetConditionError: message(() => targetsOf(this.registry, kind, targetCondition)),
      customMetricQueryErrors: Object.fromEntries(
        Object.entries(metricQueries).map(([name, sql]) => [
          name,
          message(() => countRows(this.registry, sql)),
        ]),
      ),
    };
  }

  /** `DELETE /configurations/{id}`: its settings stay on the twins; the marker goes. */
  remove(id: string, ifMatch: string | undefined): void {
    const existing = this.configurations.get(id);
    if (!existing) throw new HubError('ConfigurationNotFound', `Configuration ${id} not found.`);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== existing.etag)
      throw new HubError('PreconditionFailed', "The configuration's etag does not match.");
    this.configurations.delete(id);
    this.applyNow();
    this.save();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.applyNow();
    }, this.options.settleMs ?? 200);
    this.timer.unref();
  }

  /**
   * Applies every device and module configuration to the twins it targets and recomputes
   * the metrics. Writing content changes twins, which would schedule this again: those
   * changes are ignored while it runs.
   */
  applyNow(): void {
    if (this.closed) return;
    this.applying = true;
    try {
      const byTwin = new Map<
        string,
        { ref: { deviceId: string; moduleId?: string }; configs: Configuration[] }
      >();
      const targeted = new Map<string, number>();
      const edgeTargets = new Map<string, Configuration[]>();
      for (const config of this.configurations.values()) {
        const kind = kindOf(config);
        if (kind === 'modules') {
          this.targetEdge(config, edgeTargets, targeted);
          continue;
        }
        let rows: { deviceId: string; moduleId?: string }[] = [];
        try {
          rows = targetsOf(this.registry, kind, config.targetCondition);
        } catch {
          rows = [];
        }
        targeted.set(config.id, rows.length);
        for (const ref of rows) {
          const key = ref.moduleId === undefined ? ref.deviceId : `${ref.deviceId}/${ref.moduleId}`;
          const entry = byTwin.get(key) ?? { ref, configs: [] };
          entry.configs.push(config);
          byTwin.set(key, entry);
        }
      }
      const applied = new Map<string, number>();
      const marked = new Set<string>();
      for (const [key, { ref, configs }] of byTwin) {
        marked.add(key);
        configs.sort(
          (a, b) => b.priority - a.priority || (a.createdTimeUtc < b.createdTimeUtc ? 1 : -1),
        );
        const claimed: string[][] = [];
        const statuses: Record<string, { status: Status }> = {};
        let patch: JsonObject = {};
        for (const config of configs) {
          const inner = (config.content['deviceContent'] ??
            config.content['moduleContent']) as JsonObject;
          const paths = Object.entries(inner).map(([k, v]) => ({
            path: desiredPath(k)!,
            value: v,
          }));
          const wins = paths.every(({ path }) => !claimed.some((c) => overlaps(c, path)));
          statuses[config.id] = { status: wins ? 'Applied' : 'Targeted' };
          if (!wins) continue;
          applied.set(config.id, (applied.get(config.id) ?? 0) + 1);
          for (const { path, value } of paths) {
            claimed.push(path);
            patch = merge(patch, patchAt(path, value)!);
          }
        }
        const record = this.registry.find(ref.deviceId, ref.moduleId);
        if (!record) continue;
        if (!holdsPatch(record.twin.desired.values, patch))
          try {
            this.registry.patchTwin(ref.deviceId, ref.moduleId, { desired: patch }, undefined);
          } catch {
            // A twin deleted meanwhile, or content over the twin's size: the next pass tries again.
          }
        if (JSON.stringify(record.twin.configurations ?? {}) !== JSON.stringify(statuses))
          this.registry.setConfigurations(ref.deviceId, ref.moduleId, statuses);
      }
      for (const [deviceId, configs] of edgeTargets) {
        marked.add(`${deviceId}/$edgeAgent`);
        this.deploy(deviceId, configs, applied);
      }
      // Twins no configuration targets any more lose the marker (their settings stay).
      for (const record of [...this.registry.devices(), ...this.registry.modules()]) {
        const key =
          record.moduleId === undefined ? record.deviceId : `${record.deviceId}/${record.moduleId}`;
        if (record.twin.configurations && !marked.has(key))
          this.registry.setConfigurations(record.deviceId, record.moduleId, {});
      }
      for (const config of this.configurations.values()) {
        const condition = config.targetCondition.trim();
        if (kindOf(config) === 'modules') {
          config.systemMetrics = this.deploymentMetrics(config, targeted, applied);
        } else
          config.systemMetrics = {
            results: {
              targetedCount: targeted.get(config.id) ?? 0,
              appliedCount: applied.get(config.id) ?? 0,
            },
            queries: {
              targetedCount: condition
                ? kindOf(config) === 'module'
                  ? `select deviceId, moduleId ${condition}`
                  : `select deviceId from devices where ${condition === '*' ? 'true' : condition}`
                : '',
              appliedCount: `select deviceId from devices where configurations.[[${config.id}]].status = 'Applied'`,
            },
          };
        const results: Record<string, number> = {};
        for (const [name, sql] of Object.entries(config.metrics.queries)) {
          try {
            results[name] = countRows(this.registry, sql);
          } catch {
            results[name] = 0;
          }
        }
        config.metrics = { ...config.metrics, results };
      }
    } finally {
      this.applying = false;
    }
  }

  /** The IoT Edge devices a deployment's condition selects (other devices ignore it). */
  private targetEdge(
    config: Configuration,
    edgeTargets: Map<string, Configuration[]>,
    targeted: Map<string, number>,
  ): void {
    let rows: { deviceId: string }[];
    try {
      rows = targetsOf(this.registry, 'device', config.targetCondition);
    } catch {
      rows = [];
    }
    let count = 0;
    for (const { deviceId } of rows) {
      if (!this.registry.find(deviceId)?.capabilities?.iotEdge) continue;
      count++;
      edgeTargets.set(deviceId, [...(edgeTargets.get(deviceId) ?? []), config]);
    }
    targeted.set(config.id, count);
  }

  /**
   * An IoT Edge device's deployments, as the hub layers them: the whole deployment of the
   * highest priority applies (a tie goes to the most recently created), then every layered
   * deployment of a higher priority than it, lowest first, so the highest wins per property.
   * The result is written (as `applyConfigurationContent`) only when it changes, so a
   * device's own "set modules" stays until its deployments change.
   */
  private deploy(deviceId: string, configs: Configuration[], applied: Map<string, number>): void {
    const ranked = [...configs].sort(
      (a, b) => b.priority - a.priority || (a.createdTimeUtc < b.createdTimeUtc ? 1 : -1),
    );
    const base = ranked.find(isBaseDeployment);
    const layers = base
      ? ranked.filter((c) => !isBaseDeployment(c) && c.priority > base.priority).reverse()
      : [];
    const statuses: Record<string, { status: Status }> = {};
    for (const config of ranked)
      statuses[config.id] = {
        status: config === base || layers.includes(config) ? 'Applied' : 'Targeted',
      };
    if (base) {
      let content: Record<string, JsonObject> = {};
      try {
        for (const config of [base, ...layers]) {
          content = deploymentDesired(
            config.content['modulesContent'] as JsonObject,
            config === base,
            content,
          );
          applied.set(config.id, (applied.get(config.id) ?? 0) + 1);
        }
        // A device deleted and created again (a new generation) is deployed to afresh.
        const key = `${this.registry.find(deviceId)?.generationId ?? ''} ${JSON.stringify(content)}`;
        if (this.deployed.get(deviceId) !== key) {
          this.registry.applyModulesContent(deviceId, content);
          this.deployed.set(deviceId, key);
        }
      } catch {
        // Content over the twin's size once layered, or a device deleted meanwhile: the next
        // pass tries again.
      }
    }
    const agent = this.registry.find(deviceId, '$edgeAgent');
    if (agent && JSON.stringify(agent.twin.configurations ?? {}) !== JSON.stringify(statuses))
      this.registry.setConfigurations(deviceId, '$edgeAgent', statuses);
  }

  /**
   * An IoT Edge deployment's system metrics, with the hub's queries: targeted, applied, and
   * what the devices' agents report of it (`lastDesiredVersion` caught up with the desired
   * `$version`, and `lastDesiredStatus.code` 200 or not).
   */
  private deploymentMetrics(
    config: Configuration,
    targeted: Map<string, number>,
    applied: Map<string, number>,
  ): Configuration['systemMetrics'] {
    const marker = `configurations.[[${config.id}]].status = 'Applied'`;
    const agents = `select deviceId from devices.modules where moduleId = '$edgeAgent' and ${marker}`;
    let succeeded = 0;
    let failed = 0;
    for (const agent of this.registry.modules()) {
      if (
        agent.moduleId !== '$edgeAgent' ||
        agent.twin.configurations?.[config.id]?.status !== 'Applied'
      )
        continue;
      const reported = agent.twin.reported.values;
      const status = reported['lastDesiredStatus'];
      if (reported['lastDesiredVersion'] !== agent.twin.desired.version || !isJsonObject(status))
        continue;
      if (status['code'] === 200) succeeded++;
      else failed++;
    }
    const caughtUp = 'properties.desired.$version = properties.reported.lastDesiredVersion';
    return {
      results: {
        targetedCount: targeted.get(config.id) ?? 0,
        appliedCount: applied.get(config.id) ?? 0,
        reportedSuccessfulCount: succeeded,
        reportedFailedCount: failed,
      },
      queries: {
        targetedCount: `select deviceId from devices where capabilities.iotEdge = true and (${config.targetCondition.trim() || 'false'})`,
        appliedCount: agents,
        reportedSuccessfulCount: `${agents} and ${caughtUp} and properties.reported.lastDesiredStatus.code = 200`,
        reportedFailedCount: `${agents} and ${caughtUp} and properties.reported.lastDesiredStatus.code != 200`,
      },
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    this.save();
  }
}
