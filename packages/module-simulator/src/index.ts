export { runModule, type RunningModule } from './module-app.ts';
export { runFleet, type FleetOptions } from './fleet.ts';
