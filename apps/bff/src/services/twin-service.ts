import type {
  Twin,
  TwinPatchRequest,
  TwinReplaceRequest,
  TwinSectionName,
  Violation,
} from '@twinscope/contract';
import {
  applyObjectPatch,
  minimalPatch,
  stripReadOnly,
  validateSectionPatch,
  type JsonObject,
} from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';

export interface TwinWriteListener {
  /**
   * A write to this twin is about to be sent; the returned function is called once it has
   * settled (after `twinWritten` when it succeeded). The hub's own notice of the write may
   * arrive before the hub's answer does: it is known to be ours only once the answer is in.
   */
  twinWriting?(deviceId: string, moduleId: string | undefined): () => void;
  twinWritten(twin: Twin, sections: TwinSectionName[]): void;
}

function sectionValues(section: JsonObject): JsonObject {
  return stripReadOnly(section);
}

function versions(twin: Twin) {
  const desiredVersion = twin.properties.desired['$version'];
  return {
    etag: twin.etag,
    version: twin.version,
    ...(typeof desiredVersion === 'number' ? { desiredVersion } : {}),
  };
}

/**
 * Safe twin writes: the etag is checked first (a stale one answers 412 with the twin as it
 * is now), the patch is checked against IoT Hub's rules on the twin it would produce, and
 * only then is it sent with If-Match. A race the hub catches also ends as 412 + current.
 */
export class TwinService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly listener: TwinWriteListener,
    private readonly audit: AuditTrail,
  ) {}

  private async conflict(
    deviceId: string,
    moduleId: string | undefined,
    context: CallContext,
  ): Promise<AppError> {
    const current = await this.hub.getTwin(deviceId, moduleId, context);
    return new AppError(
      'conflict',
      'This twin was changed by someone else since you loaded it. Nothing was saved.',
      {
        current,
      },
    );
  }

  async patch(
    deviceId: string,
    moduleId: string | undefined,
    request: TwinPatchRequest,
    actor: Actor,
    context: CallContext,
    action: 'twin.patch' | 'twin.replace' = 'twin.patch',
  ): Promise<Twin> {
    const current = await this.hub.getTwin(deviceId, moduleId, context);
    // Refusals that need no hub call are answered before anything is recorded: a stale
    // etag or a patch that breaks the rules costs the trail nothing, whatever its size.
    if (current.etag !== request.etag) throw await this.conflict(deviceId, moduleId, context);
    const hubPatch: JsonObject = {};
    const sections: TwinSectionName[] = [];
    const change: JsonObject = {};
    const revert: { tags?: JsonObject; desired?: JsonObject } = {};
    const violations: Violation[] = [];
    const section = (name: 'tags' | 'desired', patch: JsonObject, before: JsonObject) => {
      const patchProblems = validateSectionPatch(name, patch);
      violations.push(...patchProblems);
      if (patchProblems.length > 0) return;
      const result = applyObjectPatch(before, patch);
      violations.push(...validateSectionPatch(name, {}, result));
      change[name] = patch;
      revert[name] = minimalPatch(result, before);
    };
    if (request.tags !== undefined) {
      const tags = request.tags;
      section('tags', tags, current.tags);
      hubPatch['tags'] = tags;
      sections.push('tags');
    }
    if (request.desired !== undefined) {
      const desired = request.desired;
      section('desired', desired, sectionValues(current.properties.desired));
      hubPatch['properties'] = { desired };
      sections.push('desired');
    }
    if (violations.length > 0) {
      throw new AppError(
        'twin_rule_violation',
        `The change breaks IoT Hub's twin rules: ${violations[0]!.path}: ${violations[0]!.message}`,
        { violations: violations.map(({ path, message }) => ({ path, message })) },
      );
    }
    const start = {
      actor,
      action,
      target: moduleId === undefined ? { deviceId } : { deviceId, moduleId },
      change,
      before: versions(current),
      revert,
      ...(request.revertOf ? { revertOf: request.revertOf } : {}),
    };
    const settled = this.listener.twinWriting?.(deviceId, moduleId);
    try {
      const twin = await audited(
        this.audit,
        start,
        async () => {
          try {
            return await this.hub.patchTwin(deviceId, moduleId, hubPatch, request.etag, context);
          } catch (error) {
            // Someone else wrote between our read and our write: the hub's If-Match caught it.
            if (error instanceof AppError && error.code === 'conflict')
              throw await this.conflict(deviceId, moduleId, context);
            throw error;
          }
        },
        versions,
      );
      this.listener.twinWritten(twin, sections);
      return twin;
    } finally {
      settled?.();
    }
  }

  /**
   * Replaces tags and desired. It is sent as the minimal patch from the twin the etag names
   * (removed keys as null) with If-Match, so devices get only what changed.
   */
  async replace(
    deviceId: string,
    moduleId: string | undefined,
    request: TwinReplaceRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<Twin> {
    const current = await this.hub.getTwin(deviceId, moduleId, context);
    if (current.etag !== request.etag) throw await this.conflict(deviceId, moduleId, context);
    const tags = minimalPatch(current.tags, request.tags);
    const desired = minimalPatch(sectionValues(current.properties.desired), request.desired);
    const hasTags = Object.keys(tags).length > 0;
    const hasDesired = Object.keys(desired).length > 0;
    if (!hasTags && !hasDesired) return current;
    return this.patch(
      deviceId,
      moduleId,
      { etag: request.etag, ...(hasTags ? { tags } : {}), ...(hasDesired ? { desired } : {}) },
      actor,
      context,
      'twin.replace',
    );
  }
}
