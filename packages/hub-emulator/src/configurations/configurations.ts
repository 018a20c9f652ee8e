import { randomBytes } from 'node:crypto';
import {
  holdsPatch,
  isJsonObject,
  jsonOf,
  objectOf,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import type { HubQuota } from '@twinscope/hub-quotas';
import { HubError } from '../errors.ts';
import type { Registry } from '../store/registry.ts';
import { readJsonState, writeJsonState } from '../store/private-files.ts';
import {
  CONFIGURATION_ID,
  isBaseDeployment,
  kindOf,
  parseConfigurationFields,
  type Configuration,
  type ConfigurationStatus,
} from './configuration.ts';
import {
  deploymentDesired,
  desiredPath,
  mergePatches,
  overlaps,
  patchAt,
} from './desired-content.ts';
import {
  configurationMetrics,
  countRows,
  customMetrics,
  deploymentMetrics,
  targetsOf,
} from './metrics.ts';

export interface ConfigurationsOptions {
  /** Where configurations are kept across restarts (none: in memory). */
  file?: string;
  /** F1 hubs hold 10 configurations, the others 100. */
  quota?: HubQuota;
  /** How soon after a change configurations are applied again (tests shorten it). */
  settleMs?: number;
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
    return [...this.configurations.values()].map((c) => objectOf(jsonOf(c)));
  }

  get(id: string): JsonObject {
    const config = this.configurations.get(id);
    if (!config) throw new HubError('ConfigurationNotFound', `Configuration ${id} not found.`);
    return objectOf(jsonOf(config));
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
    const fields = parseConfigurationFields(body, (...query) => this.testQueries(...query));
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
        const statuses: Record<string, { status: ConfigurationStatus }> = {};
        let patch: JsonObject = {};
        for (const config of configs) {
          const inner = objectOf(
            config.content['deviceContent'] ?? config.content['moduleContent'],
          );
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
            patch = mergePatches(patch, patchAt(path, value)!);
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
        config.systemMetrics =
          kindOf(config) === 'modules'
            ? deploymentMetrics(this.registry, config, targeted, applied)
            : configurationMetrics(config, targeted, applied);
        config.metrics = { ...config.metrics, results: customMetrics(this.registry, config) };
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
    const statuses: Record<string, { status: ConfigurationStatus }> = {};
    for (const config of ranked)
      statuses[config.id] = {
        status: config === base || layers.includes(config) ? 'Applied' : 'Targeted',
      };
    if (base) {
      let content: Record<string, JsonObject> = {};
      try {
        for (const config of [base, ...layers]) {
          content = deploymentDesired(
            objectOf(config.content['modulesContent']),
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

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    this.save();
  }
}
