import { registryFor } from '@twinscope/hub-connection';

/** The demo fleet's IoT Edge device. */
export const DEMO_EDGE_DEVICE = 'lyon-edge-gateway-01';

const module = (image: string, env: Record<string, string> = {}) => ({
  version: '1.0',
  type: 'docker',
  status: 'running',
  restartPolicy: 'always',
  settings: { image, createOptions: '{}' },
  ...(Object.keys(env).length > 0
    ? { env: Object.fromEntries(Object.entries(env).map(([k, value]) => [k, { value }])) }
    : {}),
});

/** Three custom modules, one of which exits a few seconds after it starts, as a broken image would. */
const DEMO_CONTENT = {
  modulesContent: {
    $edgeAgent: {
      'properties.desired': {
        schemaVersion: '1.1',
        runtime: { type: 'docker', settings: { minDockerVersion: 'v1.25' } },
        systemModules: {
          edgeAgent: {
            type: 'docker',
            settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.5' },
          },
          edgeHub: {
            type: 'docker',
            status: 'running',
            restartPolicy: 'always',
            settings: { image: 'mcr.microsoft.com/azureiotedge-hub:1.5' },
          },
        },
        modules: {
          'temperature-sensor': module('contoso.azurecr.io/temperature-sensor:1.4'),
          filter: module('contoso.azurecr.io/filter:2.0'),
          'modbus-decoder': module('contoso.azurecr.io/modbus-decoder:0.9-rc', {
            SIMULATOR_EXIT_CODE: '139',
            SIMULATOR_EXIT_AFTER_SECONDS: '5',
          }),
        },
      },
    },
    $edgeHub: {
      'properties.desired': {
        schemaVersion: '1.1',
        routes: {
          sensorToFilter:
            'FROM /messages/modules/temperature-sensor/* INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
          upstream: 'FROM /messages/modules/filter/* INTO $upstream',
        },
        storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
      },
    },
    'temperature-sensor': { 'properties.desired': { telemetryInterval: 10 } },
    filter: { 'properties.desired': { thresholdCelsius: 25 } },
  },
};

/**
 * The demo's IoT Edge device, created with its deployment on first start (a later start
 * keeps what operators changed), and the connection string its runtime uses.
 */
export async function ensureDemoEdgeDevice(
  serviceConnectionString: string,
  ca: string | undefined,
): Promise<string> {
  const registry = registryFor(serviceConnectionString, ca ? { ca } : {});
  let device;
  try {
    device = (await registry.get(DEMO_EDGE_DEVICE)).responseBody;
  } catch (error) {
    if ((error as { responseBody?: string }).responseBody?.includes('DeviceNotFound') !== true)
      throw error;
    device = (
      await registry.create({
        deviceId: DEMO_EDGE_DEVICE,
        capabilities: { iotEdge: true },
      } as never)
    ).responseBody;
    await registry.updateTwin(
      DEMO_EDGE_DEVICE,
      { tags: { role: 'edge-gateway', owner: { team: 'edge-ops' } } },
      '*',
    );
    await registry.applyConfigurationContentOnDevice(DEMO_EDGE_DEVICE, DEMO_CONTENT as never);
  }
  const key = device.authentication?.symmetricKey?.primaryKey;
  if (!key) throw new Error(`${DEMO_EDGE_DEVICE} has no symmetric key`);
  const host = (/HostName=([^;]+)/.exec(serviceConnectionString)?.[1] ?? '').split(':')[0];
  return `HostName=${host};DeviceId=${DEMO_EDGE_DEVICE};SharedAccessKey=${key}`;
}
