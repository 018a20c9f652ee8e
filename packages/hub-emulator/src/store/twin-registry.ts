// Writes to twins: PATCH, PUT and the device's reported patches (the twin each makes is
// worked out in twin-writes.ts), IoT Edge modules content, and which configurations target a
// twin; each the twin's If-Match around one commit with its twin-change event.
import {
  IDENTITY_ID_PATTERN,
  minimalPatch,
  validateSection,
  type JsonObject,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { twinChange } from './change-recorder.ts';
import type { TwinWrite } from './identity-input.ts';
import type { IdentityRecord } from './model.ts';
import { IdentityRegistry } from './identity-registry.ts';
import { matches, type Precondition } from './registry-base.ts';
import { renderTwin } from './twin-render.ts';
import { patchedTwin, replacedTwin, reportedTwin, violationError } from './twin-writes.ts';

// It extends IdentityRegistry only because a class has one parent: twin writes call no
// identity write, and identity writes call no twin write.
export class TwinRegistry extends IdentityRegistry {
  private twinPrecondition(record: IdentityRecord, precondition: Precondition): void {
    if (!matches(record.twin.etag, precondition)) {
      const who =
        record.moduleId === undefined ? `device ${record.deviceId}` : `module ${record.moduleId}`;
      throw new HubError(
        'PreconditionFailed',
        `The twin etag of ${who} does not match; it was changed by someone else.`,
      );
    }
  }

  /** `PATCH /twins/{id}`: merge tags and desired properties; null deletes. */
  patchTwin(
    deviceId: string,
    moduleId: string | undefined,
    patch: TwinWrite,
    precondition: Precondition,
  ): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    this.twinPrecondition(current, precondition);
    if (patch.tags === undefined && patch.desired === undefined) return current;
    const at = this.now();
    const { twin, body, desiredPatch } = patchedTwin(current.twin, patch, at);
    const next = { ...current, twin: { ...twin, etag: this.twinEtag() } };
    return this.twinChanged(next, at, 'updateTwin', body, desiredPatch);
  }

  /** `PUT /twins/{id}`: replace tags and desired properties wholesale. */
  replaceTwin(
    deviceId: string,
    moduleId: string | undefined,
    replacement: TwinWrite,
    precondition: Precondition,
  ): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    this.twinPrecondition(current, precondition);
    const at = this.now();
    const { twin, desiredPatch } = replacedTwin(current.twin, replacement, at);
    const next = { ...current, twin: { ...twin, etag: this.twinEtag() } };
    return this.twinChanged(next, at, 'replaceTwin', renderTwin(next), desiredPatch);
  }

  /** A reported-properties patch from the device or module itself (parsed by the transport). */
  patchReported(deviceId: string, moduleId: string | undefined, patch: JsonObject): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    const at = this.now();
    const { twin, body } = reportedTwin(current.twin, patch, at);
    const next = { ...current, twin: { ...twin, etag: this.twinEtag() } };
    return this.twinChanged(next, at, 'updateTwin', body);
  }

  /** Stores a changed twin and records the change, as one durable step. */
  private twinChanged(
    next: IdentityRecord,
    at: string,
    opType: 'updateTwin' | 'replaceTwin',
    body: JsonObject,
    desiredPatch?: JsonObject,
  ): IdentityRecord {
    this.store(next);
    this.commit([{ put: next }], [twinChange(next, at, opType, body, desiredPatch)]);
    return next;
  }

  /**
   * `applyConfigurationContent` on an IoT Edge device: each module's desired properties
   * become what the content says (keys it leaves out are removed), for the modules the device
   * has now; the content is kept, so a module created later (by the Edge runtime) starts
   * with its part. Everything is checked before anything is written.
   */
  applyModulesContent(deviceId: string, content: Record<string, JsonObject>): void {
    const entry = this.entry(deviceId);
    if (!entry.device.capabilities?.iotEdge)
      throw new HubError(
        'ArgumentInvalid',
        `Device ${deviceId} is not an IoT Edge device; modules content applies to IoT Edge devices only.`,
      );
    for (const [moduleId, desired] of Object.entries(content)) {
      if (!IDENTITY_ID_PATTERN.test(moduleId))
        throw new HubError('ArgumentInvalid', `"${moduleId}" is not a valid module id.`);
      const violations = validateSection('desired', desired);
      if (violations.length > 0) throw violationError(violations);
    }
    this.batch(() => {
      for (const [moduleId, desired] of Object.entries(content)) {
        const module = entry.modules.get(moduleId);
        if (!module) continue;
        const patch = minimalPatch(module.twin.desired.values, desired);
        if (Object.keys(patch).length > 0)
          this.patchTwin(deviceId, moduleId, { desired: patch }, undefined);
      }
      const device = { ...entry.device, modulesContent: content };
      this.store(device);
      this.commit([{ put: device }]);
    });
  }

  /**
   * Which automatic configurations target a twin and whether each applied (the hub's
   * `configurations` member): no new twin version, as on IoT Hub.
   */
  setConfigurations(
    deviceId: string,
    moduleId: string | undefined,
    configurations: Record<string, { status: 'Targeted' | 'Applied' }>,
  ): void {
    const current = this.find(deviceId, moduleId);
    if (!current) return;
    const next: IdentityRecord = {
      ...current,
      twin: {
        ...current.twin,
        ...(Object.keys(configurations).length > 0 ? { configurations } : {}),
      },
    };
    if (Object.keys(configurations).length === 0) delete next.twin.configurations;
    this.store(next);
    this.commit([{ put: next }]);
  }
}
