import type { EdgeModule, EdgeOverview } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { deploymentIntent, moduleWhy } from './edge-state.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');

const module = (state: EdgeModule['state'], reported?: Partial<EdgeModule['reported']>) =>
  ({
    name: 'decoder',
    system: false,
    state,
    desired: { image: 'contoso/decoder:1', status: 'running', restartPolicy: 'always' },
    ...(reported ? { reported: { runtimeStatus: 'running', restartCount: 0, ...reported } } : {}),
  }) satisfies EdgeModule;

const overview = (
  deployment: Partial<EdgeOverview['deployment']>,
  modules: EdgeModule[] = [],
): EdgeOverview => ({
  deviceId: 'edge-1',
  parents: [],
  children: [],
  runtime: { connected: true },
  deployment: { desiredVersion: 2, summary: '', healthy: false, ...deployment },
  modules,
  manifest: { modulesContent: {} },
  deployments: [],
});

describe('how an Edge module says why it is in its state', () => {
  it("when the agent describes the state, then that is the reason, unless it only says 'running'", () => {
    expect(moduleWhy(module('pending', { statusDescription: 'pulling image' }), NOW)).toBe(
      'pulling image',
    );
    expect(moduleWhy(module('running', { statusDescription: 'running' }), NOW)).toBe('');
  });

  it('when a failed module reported an exit, then it is told as a crash loop with its restarts', () => {
    const crashed = module('failed', {
      runtimeStatus: 'backoff',
      exitCode: 139,
      restartCount: 4,
      lastExitTimeUtc: '2025-06-01T11:59:30Z',
    });
    expect(moduleWhy(crashed, NOW)).toMatch(
      /^Crash-looping: running again after exiting with code 139 .+, 4 restarts so far\.$/,
    );
  });

  it('when a module has not reported, then there is nothing to say', () => {
    expect(moduleWhy(module('pending'), NOW)).toBe('');
  });
});

describe("the colour of an Edge device's deployment summary", () => {
  it('when the deployment is healthy, then success', () => {
    expect(deploymentIntent(overview({ healthy: true }))).toBe('success');
  });

  it('when the agent failed to apply it or a module fails, then error; when it is on its way, warning', () => {
    expect(
      deploymentIntent(overview({ status: { code: 400, description: 'bad createOptions' } })),
    ).toBe('error');
    expect(deploymentIntent(overview({}, [module('failed')]))).toBe('error');
    expect(deploymentIntent(overview({ status: { code: 200, description: '' } }))).toBe('warning');
    expect(deploymentIntent(overview({}, [module('pending')]))).toBe('warning');
  });
});
