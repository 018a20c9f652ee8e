import { parseTwinWrite } from '../store/identity-input.ts';
import { renderTwin } from '../store/twin-render.ts';
import {
  deviceTarget,
  moduleTarget,
  type Operation,
  type OperationContext,
} from '../http/operation.ts';

// Reading twins and running queries: ServiceConnect, or RegistryRead (as the hub's
// "IoT Hub Registry Reader" data role allows). Writing twins: ServiceConnect.
const read = ['ServiceConnect', 'RegistryRead'] as Operation['rights'];
const write = ['ServiceConnect'] as Operation['rights'];

const moduleId = (context: OperationContext) => context.params['moduleId'];

/** The write a request asks for; an unknown twin is a 404 before a malformed body is a 400. */
function twinWrite(context: OperationContext) {
  context.registry.get(context.params['deviceId']!, moduleId(context));
  return parseTwinWrite(context.body);
}

function twinOperations(path: string, target: Operation['target']): Operation[] {
  const suffix = path.includes('modules') ? 'module-twin' : 'device-twin';
  return [
    {
      name: `get-${suffix}`,
      method: 'GET',
      path,
      rights: read,
      throttle: 'twinRead',
      target,
      handle: (context) => ({
        status: 200,
        body: renderTwin(context.registry.get(context.params['deviceId']!, moduleId(context))),
      }),
    },
    {
      name: `patch-${suffix}`,
      method: 'PATCH',
      path,
      rights: write,
      throttle: 'twinUpdate',
      target,
      handle: (context) => ({
        status: 200,
        body: renderTwin(
          context.registry.patchTwin(
            context.params['deviceId']!,
            moduleId(context),
            twinWrite(context),
            context.precondition,
          ),
        ),
      }),
    },
    {
      name: `replace-${suffix}`,
      method: 'PUT',
      path,
      rights: write,
      throttle: 'twinUpdate',
      target,
      handle: (context) => ({
        status: 200,
        body: renderTwin(
          context.registry.replaceTwin(
            context.params['deviceId']!,
            moduleId(context),
            twinWrite(context),
            context.precondition,
          ),
        ),
      }),
    },
  ];
}

export const twinOperationsTable: Operation[] = [
  ...twinOperations('/twins/{deviceId}', deviceTarget),
  ...twinOperations('/twins/{deviceId}/modules/{moduleId}', moduleTarget),
];
