import type { Request, Response } from 'express';
import type { SecurityCheck } from '../core/app-error.ts';
import type { Logger } from '../log.ts';
import type { Operator } from './local-auth.ts';
import { requestRefused } from '../telemetry/instruments.ts';

/**
 * Requests a guard refused (the policy, the CSRF token, the Origin, the Host): each is
 * logged as a security event saying who, what and why, with the request id the browser was
 * told, and counted per guard.
 */
export class SecurityEvents {
  private readonly counts = new Map<SecurityCheck, number>();

  constructor(private readonly logger: Logger) {}

  refused(check: SecurityCheck, why: string, req: Request, res: Response): void {
    const count = (this.counts.get(check) ?? 0) + 1;
    this.counts.set(check, count);
    requestRefused(check);
    const operator = res.locals['operator'] as Operator | undefined;
    this.logger.warn('security: request refused', {
      check,
      who: operator ? `${operator.name} (${operator.id})` : 'not signed in',
      roles: operator?.roles ?? [],
      from: req.ip,
      method: req.method,
      path: req.originalUrl.split('?')[0],
      why,
      requestId: String(res.locals['requestId'] ?? ''),
      refusedSoFar: count,
    });
  }

  /** How many requests each guard refused since the BFF started. */
  counted(): Record<SecurityCheck, number> {
    return {
      policy: this.counts.get('policy') ?? 0,
      csrf: this.counts.get('csrf') ?? 0,
      origin: this.counts.get('origin') ?? 0,
      host: this.counts.get('host') ?? 0,
    };
  }
}
