import type { JsonValue } from '@twinscope/twin';
import { objectOf } from '@twinscope/twin';
import type { CallContext } from '../../core/call-context.ts';
import type { HubMethods, MethodCall } from '../hub-adapter.ts';
import { checkIds } from './call.ts';
import type { HubParts } from './parts.ts';

/** The method as the SDK sends it: a payload of JSON, or null. */
const callOf = (request: MethodCall) => ({
  methodName: request.methodName,
  payload: request.payload ?? null,
  responseTimeoutInSeconds: request.responseTimeoutInSeconds,
  connectTimeoutInSeconds: request.connectTimeoutInSeconds,
});

/** Direct methods: one call through the service client, or many as an IoT Hub job. */
export function methodOperations({ calls, clients }: HubParts): HubMethods {
  return {
    async invokeMethod(
      target: { deviceId: string; moduleId?: string },
      request: MethodCall,
      context?: CallContext,
    ): Promise<{ status: number; payload: JsonValue }> {
      const { deviceId, moduleId } = target;
      checkIds(deviceId, moduleId);
      const what =
        moduleId === undefined ? `Device ${deviceId}` : `Module ${moduleId} of ${deviceId}`;
      // The hub holds the call up to both timeouts; the BFF waits that long, and a little more.
      const waitMs =
        (request.responseTimeoutInSeconds + request.connectTimeoutInSeconds) * 1000 + 5000;
      // IoT Hub meters methods in 4 KB blocks.
      const blocks = Math.max(1, Math.ceil(JSON.stringify(request.payload ?? null).length / 4096));
      return calls.call(
        what,
        'write',
        { method: blocks },
        context,
        async (sdk) => {
          const client = clients.service();
          const params = callOf(request);
          const { result } = await sdk(() =>
            moduleId === undefined
              ? client.invokeDeviceMethod(deviceId, params)
              : client.invokeDeviceMethod(deviceId, moduleId, params),
          );
          const answer = objectOf(result);
          return {
            status: typeof answer['status'] === 'number' ? answer['status'] : 0,
            payload: answer['payload'] ?? null,
          };
        },
        waitMs,
      );
    },

    async scheduleMethodJob(
      jobId: string,
      queryCondition: string,
      request: MethodCall,
      maxExecutionTimeInSeconds: number,
    ): Promise<void> {
      await calls.call(`Job ${jobId}`, 'write', { jobs: 1 }, undefined, (sdk) =>
        sdk(() =>
          clients.jobs.scheduleDeviceMethod(
            jobId,
            queryCondition,
            callOf(request),
            new Date(),
            maxExecutionTimeInSeconds,
          ),
        ),
      );
    },

    async getJob(jobId: string): Promise<{ status: string; failureReason?: string }> {
      return calls.call(`Job ${jobId}`, 'read', { jobs: 1 }, undefined, async (sdk) => {
        const job = objectOf((await sdk(() => clients.jobs.getJob(jobId))).jobStatus);
        return {
          status: typeof job['status'] === 'string' ? job['status'] : 'unknown',
          ...(typeof job['failureReason'] === 'string'
            ? { failureReason: job['failureReason'] }
            : {}),
        };
      });
    },
  };
}
