export {
  startDevIdp,
  DEMO_USERS,
  DEV_TENANT_ID,
  objectIdFor,
  type DemoUser,
  type DevIdpOptions,
  type RunningDevIdp,
} from './idp.ts';
