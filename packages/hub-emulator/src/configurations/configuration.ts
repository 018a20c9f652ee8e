// What an automatic configuration or IoT Edge deployment is, as the hub stores it, and how a
// request's body becomes one.
import { isJsonObject, validateSectionPatch, type JsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { violationError } from '../store/twin-writes.ts';
import { deploymentDesired, desiredPath, DESIRED, patchAt } from './desired-content.ts';

export type ConfigurationStatus = 'Targeted' | 'Applied';

export interface Configuration {
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

/** What is wrong with a target condition and metric queries; empty strings where nothing is. */
export type TestQueries = (
  targetCondition: string,
  metricQueries: Record<string, string>,
  kind: 'device' | 'module',
) => { targetConditionError: string; customMetricQueryErrors: Record<string, string> };

/** Lower-case letters, digits and `-+%_*!'`, up to 128 characters (IoT Hub's id rule). */
export const CONFIGURATION_ID = /^[a-z0-9\-+%_*!']{1,128}$/;
const MAX_METRICS = 5;

/** What a configuration configures: device twins, module twins, or IoT Edge modules (a deployment). */
export function kindOf(config: { content: JsonObject }): 'device' | 'module' | 'modules' {
  if (config.content['moduleContent'] !== undefined) return 'module';
  if (config.content['modulesContent'] !== undefined) return 'modules';
  return 'device';
}

/** A whole IoT Edge deployment (not a layer): it sets `$edgeAgent`'s whole desired document. */
export function isBaseDeployment(config: Configuration): boolean {
  const modules = config.content['modulesContent'];
  return (
    isJsonObject(modules) &&
    isJsonObject(modules['$edgeAgent']) &&
    modules['$edgeAgent'][DESIRED] !== undefined
  );
}

/**
 * A request's configuration fields, checked as IoT Hub checks them: exactly one kind of
 * content with twin paths for keys, a target condition and metric queries the query language
 * takes (`testQueries` asks it), a whole-number priority and string labels.
 */
export function parseConfigurationFields(body: JsonObject, testQueries: TestQueries) {
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
  const errors = testQueries(
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
