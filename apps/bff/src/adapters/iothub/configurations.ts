import { isJsonObject, objectOf, type JsonObject } from '@twinscope/twin';
import type { CallContext } from '../../core/call-context.ts';
import type { ConfigurationWrite, HubConfiguration, HubConfigurations } from '../hub-adapter.ts';
import { checkIds } from './call.ts';
import type { HubParts } from './parts.ts';

/** Automatic configurations and IoT Edge deployments through the Registry. */
export function configurationOperations({ calls, clients }: HubParts): HubConfigurations {
  const { registry } = clients;
  const read = async (id: string, sdk: <R>(start: () => Promise<R>) => Promise<R>) =>
    objectOf((await sdk(() => registry.getConfiguration(id))).responseBody);
  return {
    async listConfigurations(context?: CallContext): Promise<HubConfiguration[]> {
      return calls.call(
        'The configurations',
        'read',
        { configurations: 1 },
        context,
        async (sdk) => {
          const body: unknown = (await sdk(() => registry.getConfigurations())).responseBody;
          return Array.isArray(body) ? body.filter(isJsonObject) : [];
        },
      );
    },

    async getConfiguration(id: string, context?: CallContext): Promise<HubConfiguration> {
      return calls.call(`Configuration ${id}`, 'read', { configurations: 1 }, context, (sdk) =>
        read(id, sdk),
      );
    },

    async saveConfiguration(
      configuration: ConfigurationWrite,
      etag: string | undefined,
      context?: CallContext,
    ): Promise<HubConfiguration> {
      const { id } = configuration;
      return calls.call(
        `Configuration ${id}`,
        'write',
        { configurations: 1 },
        context,
        async (sdk) => {
          if (etag === undefined) await sdk(() => registry.addConfiguration(configuration));
          else await sdk(() => registry.updateConfiguration({ ...configuration, etag }));
          return read(id, sdk);
        },
      );
    },

    async deleteConfiguration(id: string, context?: CallContext): Promise<void> {
      await calls.call(
        `Configuration ${id}`,
        'write',
        { configurations: 1 },
        context,
        async (sdk) => {
          await sdk(() => registry.removeConfiguration(id));
        },
      );
    },

    async applyModulesContent(
      deviceId: string,
      modulesContent: JsonObject,
      context?: CallContext,
    ): Promise<void> {
      checkIds(deviceId);
      await calls.call(
        `Device ${deviceId}`,
        'write',
        { configurations: 1 },
        context,
        async (sdk) => {
          await sdk(() => registry.applyConfigurationContentOnDevice(deviceId, { modulesContent }));
        },
      );
    },
  };
}
