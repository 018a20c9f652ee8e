import type {
  MethodInvocation,
  MethodInvokeRequest,
  MethodInvokeResponse,
} from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { CallContext } from '../core/call-context.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';

/** A recorded payload past this is kept as its size only: the list is for recognising calls. */
const RECORDED_PAYLOAD_BYTES = 4 * 1024;

export interface MethodTarget {
  deviceId: string;
  moduleId?: string;
}

/**
 * Direct methods (Operator): one call to a device or module, audited with who called what
 * and the status it answered; the recent calls of a target come from the audit trail.
 */
export class MethodService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly audit: AuditTrail,
  ) {}

  async invoke(
    target: MethodTarget,
    request: MethodInvokeRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<MethodInvokeResponse> {
    const text = JSON.stringify(request.payload ?? null);
    const startedAt = Date.now();
    const answer = await audited(
      this.audit,
      {
        actor,
        action: 'method.invoke',
        target,
        change: {
          methodName: request.methodName,
          responseTimeoutInSeconds: request.responseTimeoutInSeconds,
          connectTimeoutInSeconds: request.connectTimeoutInSeconds,
          ...(Buffer.byteLength(text) <= RECORDED_PAYLOAD_BYTES
            ? { payload: request.payload ?? null }
            : { payloadBytes: Buffer.byteLength(text) }),
        },
      },
      () =>
        this.hub.invokeMethod(
          target,
          {
            methodName: request.methodName,
            payload: request.payload ?? null,
            responseTimeoutInSeconds: request.responseTimeoutInSeconds,
            connectTimeoutInSeconds: request.connectTimeoutInSeconds,
          },
          context,
        ),
      () => undefined,
      (result) => ({ status: result.status }),
    );
    return { status: answer.status, payload: answer.payload, durationMs: Date.now() - startedAt };
  }

  /** The newest calls made from Twinscope on this target, newest first. */
  async recent(target: MethodTarget, limit = 20): Promise<MethodInvocation[]> {
    return (await this.audit.recent(target, 'method.invoke', limit)).map((entry) => ({
      id: entry.id,
      at: entry.at,
      actor: entry.actor,
      methodName: String(entry.change['methodName'] ?? ''),
      ...(entry.response ? { status: entry.response.status } : {}),
      result: entry.result,
      ...(entry.error ? { error: entry.error } : {}),
      ...('payload' in entry.change ? { payload: entry.change['payload'] } : {}),
    }));
  }
}
