import { isJsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { deviceTarget, type Operation, type OperationContext } from '../http/operation.ts';
import type { Configurations } from '../configurations/configurations.ts';

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
    handle() {
      throw new HubError(
        'ArgumentInvalid',
        'applyConfigurationContent (IoT Edge set-modules) is not supported by the emulator yet.',
      );
    },
  },
];
