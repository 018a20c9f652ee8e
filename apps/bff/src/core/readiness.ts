/**
 * Whether this replica should be sent traffic (`/readyz`): each dependency is checked, none
 * for longer than a few seconds, and the answer says which is not ready and why. A replica
 * that is stopping says so first, so the load balancer stops sending it new requests.
 */
export interface ReadinessCheck {
  name: string;
  /** Nothing when ready; otherwise why not, in an operator's words. */
  check(): Promise<string | undefined>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ready: boolean; reason?: string }>;
}

/** A check that has not answered in this long counts as not ready (a hung database). */
const CHECK_TIMEOUT_MS = 3000;

export class Readiness {
  private stopping = false;

  constructor(private readonly checks: readonly ReadinessCheck[]) {}

  /** The replica drains: not ready from now on, whatever the checks say. */
  drain(): void {
    this.stopping = true;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        const reason = await Promise.race([
          check().catch((error: unknown) => (error as Error).message || 'failed'),
          new Promise<string>((resolve) => {
            timer = setTimeout(
              () => resolve(`did not answer within ${CHECK_TIMEOUT_MS / 1000} s`),
              CHECK_TIMEOUT_MS,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        return [name, reason === undefined ? { ready: true } : { ready: false, reason }] as const;
      }),
    );
    const checks: ReadinessReport['checks'] = Object.fromEntries(results);
    if (this.stopping) checks['replica'] = { ready: false, reason: 'stopping (SIGTERM)' };
    return { ready: Object.values(checks).every((c) => c.ready), checks };
  }
}
