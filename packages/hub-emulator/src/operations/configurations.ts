import { isJsonObject, type JsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { deviceTarget, type Operation, type OperationContext } from '../http/operation.ts';
import type { Configurations } from '../configurations/configurations.ts';
import { deploymentDesired } from '../configurations/desired-content.ts';

function configurationsOf(context: OperationContext): Configurations {
  if (!context.configurations)
    throw new HubError('ServiceUnavailable', 'Configurations are not running.');
  return context.configurations;
}

/** `If-Match: "etag"` as the SDK sends it, without its quotes; none when absent. */
function ifMatch(context: OperationContext): string | undefined {
  const header = context.headers['if-match'];
  if (typeof header !== 'string' || header === '') return undefined;
  return header.replace(/^"(.*)"$/, '$1');
}

/**
 * The desired properties each module gets from `applyConfigurationContent`'s body
 * (`{"modulesContent": {"$edgeAgent": {"properties.desired": {…}}, …}}`).
 */
function modulesDesired(body: unknown): Record<string, JsonObject> {
  if (!isJsonObject(body))
    throw new HubError(
      'ArgumentInvalid',
      'The body is configuration content: {"modulesContent": {…}}.',
    );
  const modules = body['modulesContent'];
  if (!isJsonObject(modules) || Object.keys(modules).length === 0)
    throw new HubError(
      'ArgumentInvalid',
      body['deviceContent'] !== undefined || body['moduleContent'] !== undefined
        ? 'applyConfigurationContent applies modulesContent (an IoT Edge deployment) to one device; deviceContent and moduleContent are for automatic configurations.'
        : 'modulesContent is required: {"$edgeAgent": {"properties.desired": {…}}, "$edgeHub": {"properties.desired": {…}}, …}.',
    );
  return deploymentDesired(modules, true);
}

/** Automatic device and module configurations (`Registry.addConfiguration` and the rest). */
export const configurationOperations: Operation[] = [
  {
    name: 'test-configuration-queries',
    method: 'POST',
    path: '/configurations/testQueries',
    rights: ['RegistryRead'],
    throttle: 'configurations',
    handle(context) {
      const body = context.body;
      if (!isJsonObject(body))
        throw new HubError(
          'ArgumentInvalid',
          'The body is {targetCondition, customMetricQueries}.',
        );
      const condition = typeof body['targetCondition'] === 'string' ? body['targetCondition'] : '';
      const queries = isJsonObject(body['customMetricQueries']) ? body['customMetricQueries'] : {};
      const metricQueries = Object.fromEntries(
        Object.entries(queries).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      return { status: 200, body: configurationsOf(context).testQueries(condition, metricQueries) };
    },
  },
  {
    name: 'list-configurations',
    method: 'GET',
    path: '/configurations',
    rights: ['RegistryRead'],
    throttle: 'configurations',
    handle: (context) => ({ status: 200, body: configurationsOf(context).list() }),
  },
  {
    name: 'get-configuration',
    method: 'GET',
    path: '/configurations/{id}',
    rights: ['RegistryRead'],
    throttle: 'configurations',
    handle: (context) => ({
      status: 200,
      body: configurationsOf(context).get(context.params['id']!),
    }),
  },
  {
    name: 'put-configuration',
    method: 'PUT',
    path: '/configurations/{id}',
    rights: ['RegistryWrite'],
    throttle: 'configurations',
    handle: (context) => ({
      status: 200,
      body: configurationsOf(context).put(context.params['id']!, context.body, ifMatch(context)),
    }),
  },
  {
    name: 'delete-configuration',
    method: 'DELETE',
    path: '/configurations/{id}',
    rights: ['RegistryWrite'],
    throttle: 'configurations',
    handle(context) {
      configurationsOf(context).remove(context.params['id']!, ifMatch(context));
      return { status: 204 };
    },
  },
  {
    name: 'apply-configuration-content',
    method: 'POST',
    path: '/devices/{deviceId}/applyConfigurationContent',
    rights: ['RegistryWrite'],
    throttle: 'configurations',
    target: deviceTarget,
    handle({ registry, params, body }) {
      registry.applyModulesContent(params['deviceId']!, modulesDesired(body));
      return { status: 204 };
    },
  },
];
