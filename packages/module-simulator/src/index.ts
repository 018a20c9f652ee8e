export {
  DEVICE_TRANSPORTS,
  runDevice,
  runModule,
  TRANSPORTS,
  type HubPorts,
  type ModuleOptions,
  type RunningModule,
  type Transport,
} from './module-app.ts';
export { runFleet, type FleetOptions } from './fleet.ts';
export { runEdgeRuntime, type EdgeRuntime, type EdgeRuntimeOptions } from './edge-runtime.ts';
export { BOOT_REPORT, uploadBootReport, uploadBootReportFor } from './boot-report.ts';
export { provisionDevice, deriveDeviceKey } from './provisioned-device.ts';
export { CONTROLLER_MODEL, runPnpDevice, THERMOSTAT_MODEL, type PnpKind } from './pnp-device.ts';
