import type { Database } from '../adapters/store/sql.ts';
import type { Logger } from '../log.ts';

const CHANNEL = 'twinscope_rollouts';

/**
 * That a rollout changed, told through the database (NOTIFY), so every replica hears it: the
 * drivers wake (someone paused it), and the live hub tells the tabs showing rollouts.
 */
export class RolloutNotices {
  private readonly listeners = new Set<(id: string) => void>();
  private readonly lastNotice = new Map<string, number>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unlisten ??= await this.db.listen(CHANNEL, (id) => {
      for (const listener of this.listeners) listener(id);
    });
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  /** Hears that a rollout changed (any replica's), at most a few times a second each. */
  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every replica that a rollout changed; throttled to four a second unless `now`. */
  changed(id: string, now = false): void {
    const last = this.lastNotice.get(id) ?? 0;
    if (!now && Date.now() - last < 250) return;
    this.lastNotice.set(id, Date.now());
    this.db
      .query('SELECT pg_notify($1, $2)', [CHANNEL, id])
      .catch((error: unknown) =>
        this.logger.warn('rollout notice failed', { message: (error as Error).message }),
      );
  }
}
