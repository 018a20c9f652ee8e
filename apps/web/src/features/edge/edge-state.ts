import type { EdgeModule, EdgeOverview } from '@twinscope/contract';
import { relativeTime } from '../../lib/format.ts';

/** How the console colours and words an IoT Edge device's state, apart from React. */

/** A module's state as a badge colour. */
export const STATE_COLOUR = {
  running: 'success',
  stopped: 'informative',
  pending: 'warning',
  removing: 'warning',
  failed: 'danger',
} as const satisfies Record<EdgeModule['state'], string>;

/**
 * Why a module is in its state, in words: the agent's own description unless it only says
 * "running", else a crash loop told from the exit it reported; empty when there is nothing to say.
 */
export function moduleWhy(module: EdgeModule, now = Date.now()): string {
  const reported = module.reported;
  if (reported?.statusDescription && reported.statusDescription !== 'running')
    return reported.statusDescription;
  if (module.state === 'failed' && reported?.exitCode !== undefined)
    return `Crash-looping: running again after exiting with code ${reported.exitCode} ${relativeTime(reported.lastExitTimeUtc, now)}, ${reported.restartCount} restarts so far.`;
  return '';
}

/**
 * The deployment summary's colour: healthy is success; the agent's failing status or a
 * failed module is an error; anything else (not yet applied, pending) a warning.
 */
export function deploymentIntent(overview: EdgeOverview): 'success' | 'error' | 'warning' {
  const { deployment } = overview;
  if (deployment.healthy) return 'success';
  if (deployment.status && deployment.status.code !== 200) return 'error';
  return overview.modules.some((m) => m.state === 'failed') ? 'error' : 'warning';
}
