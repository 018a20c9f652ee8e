export {
  startDevIdp,
  objectIdFor,
  type DemoUser,
  type DevIdpOptions,
  type RunningDevIdp,
} from './idp.ts';
