import { dockerModule, emptyDeploymentManifest } from '@twinscope/contract';
import { registryFor, serviceCredentials } from '@twinscope/hub-connection';

/** The demo fleet's IoT Edge device. */
export const DEMO_EDGE_DEVICE = 'lyon-edge-gateway-01';

/** Three custom modules, one of which exits a few seconds after it starts, as a broken image would. */
const DEMO_MANIFEST = emptyDeploymentManifest({
  'temperature-sensor': dockerModule('contoso.azurecr.io/temperature-sensor:1.4'),
  filter: dockerModule('contoso.azurecr.io/filter:2.0'),
  'modbus-decoder': dockerModule('contoso.azurecr.io/modbus-decoder:0.9-rc', {
    SIMULATOR_EXIT_CODE: '139',
    SIMULATOR_EXIT_AFTER_SECONDS: '5',
  }),
});
const DEMO_CONTENT = {
  modulesContent: {
    ...DEMO_MANIFEST.modulesContent,
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
      })
    ).responseBody;
    await registry.updateTwin(
      DEMO_EDGE_DEVICE,
      { tags: { role: 'edge-gateway', owner: { team: 'edge-ops' } } },
      '*',
    );
    await registry.applyConfigurationContentOnDevice(DEMO_EDGE_DEVICE, DEMO_CONTENT);
  }
  const key = device.authentication?.symmetricKey?.primaryKey;
  if (!key) throw new Error(`${DEMO_EDGE_DEVICE} has no symmetric key`);
  const host = serviceCredentials(serviceConnectionString).hostName;
  return `HostName=${host};DeviceId=${DEMO_EDGE_DEVICE};SharedAccessKey=${key}`;
}
