import type { AuditEntry } from '@twinscope/contract';

/** What each recorded action did, in words (after the person's name). */
export const ACTIONS: Record<AuditEntry['action'], string> = {
  'twin.patch': 'changed the twin',
  'twin.replace': 'replaced tags/desired',
  'module.create': 'created the module',
  'module.update': 'updated the module',
  'module.delete': 'deleted the module',
  'module.reveal-connection-string': 'revealed the connection string',
  'device.create': 'created the device',
  'device.update': 'updated the device',
  'device.delete': 'deleted the device',
  'device.reveal-connection-string': 'revealed the connection string',
  'method.invoke': 'invoked a direct method',
  'message.send': 'sent a cloud-to-device message',
  'message.purge': 'purged the cloud-to-device queue',
  'configuration.create': 'created the configuration',
  'configuration.update': 'changed the configuration',
  'configuration.delete': 'deleted the configuration',
  'rollout.create': 'started a rollout',
  'rollout.approve': 'approved the rollout past its canary',
  'rollout.pause': 'paused the rollout',
  'rollout.resume': 'resumed the rollout',
  'rollout.cancel': 'cancelled the rollout',
  'rollout.rollback': 'rolled the rollout back',
  'rollout.write': "wrote a rollout's change",
  'rollout.revert': "undid a rollout's change",
};
