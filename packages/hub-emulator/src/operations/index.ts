import type { Operation } from '../http/operation.ts';
import { bulkOperations } from './bulk.ts';
import { cloudToDeviceOperations } from './cloud-to-device.ts';
import { configurationOperations } from './configurations.ts';
import { deviceFileOperations } from './device-files.ts';
import { deviceOperations as deviceHttpOperations } from './device-http.ts';
import { deviceOperations } from './devices.ts';
import { jobOperations } from './jobs.ts';
import { methodOperations } from './methods.ts';
import { moduleOperations } from './modules.ts';
import { queryOperations } from './query.ts';
import { twinOperationsTable } from './twins.ts';

/**
 * Every REST operation of the service API and the device HTTPS transport, as the rows the
 * HTTP pipeline dispatches on. The pipeline is handed this table (by emulator.ts); it never
 * imports the operations itself.
 */
export const serviceOperations: readonly Operation[] = [
  ...deviceOperations,
  ...moduleOperations,
  ...twinOperationsTable,
  ...queryOperations,
  ...bulkOperations,
  ...methodOperations,
  ...cloudToDeviceOperations,
  ...deviceHttpOperations,
  ...deviceFileOperations,
  ...jobOperations,
  ...configurationOperations,
];
