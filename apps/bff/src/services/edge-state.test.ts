import { describe, expect, it } from 'vitest';
import { deploymentState, moduleRows } from './edge-state.ts';

const spec = (status = 'running') => ({
  type: 'docker',
  status,
  restartPolicy: 'always',
  settings: { image: 'contoso/m:1' },
});
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('an Edge device’s modules, deployed against reported', () => {
  it('when the agent reports each kind of module, then each gets the state an operator reads at a glance', () => {
    const rows = moduleRows(
      {
        modules: {
          ok: spec(),
          looping: spec(),
          restarted: spec(),
          backoff: spec(),
          halted: spec('stopped'),
          waiting: spec(),
          old: spec(),
        },
      },
      {
        systemModules: { edgeAgent: { runtimeStatus: 'running' } },
        modules: {
          ok: { runtimeStatus: 'running', restartCount: 0 },
          // Up again a minute after crashing: crash-looping, though "running" right now.
          looping: {
            runtimeStatus: 'running',
            exitCode: 139,
            lastExitTimeUtc: ago(60_000),
            restartCount: 4,
          },
          // Restarted on purpose (exit 0), or crashed long ago: running.
          restarted: {
            runtimeStatus: 'running',
            exitCode: 0,
            lastExitTimeUtc: ago(1000),
            restartCount: 1,
          },
          old: {
            runtimeStatus: 'running',
            exitCode: 1,
            lastExitTimeUtc: ago(3_600_000),
            restartCount: 1,
          },
          backoff: { runtimeStatus: 'backoff', exitCode: 2, restartCount: 2 },
          halted: { runtimeStatus: 'stopped', restartCount: 0 },
          gone: { runtimeStatus: 'running', restartCount: 0 },
        },
      },
    );
    expect(Object.fromEntries(rows.map((row) => [row.name, row.state]))).toEqual({
      edgeAgent: 'running',
      // Not reported yet.
      edgeHub: 'pending',
      backoff: 'failed',
      gone: 'removing',
      halted: 'stopped',
      looping: 'failed',
      ok: 'running',
      old: 'running',
      restarted: 'running',
      waiting: 'pending',
    });
    expect(rows.find((row) => row.name === 'looping')).toMatchObject({
      system: false,
      desired: { image: 'contoso/m:1', status: 'running', restartPolicy: 'always' },
      reported: { runtimeStatus: 'running', exitCode: 139, restartCount: 4 },
    });
  });
});

describe('an Edge deployment in one line', () => {
  const applied = {
    lastDesiredVersion: 3,
    lastDesiredStatus: { code: 200, description: '' },
  };
  it('when the agent has not processed the newest version, then the line says which it waits for', () => {
    const state = deploymentState({ $version: 4 }, applied, [], true);
    expect(state).toMatchObject({ desiredVersion: 4, reportedVersion: 3, healthy: false });
    expect(state.summary).toBe(
      'Deployment version 4 waits for the agent, which last processed version 3.',
    );
  });

  it('when the agent refused a version, then its code and reason are the line', () => {
    const state = deploymentState(
      { $version: 3 },
      { lastDesiredVersion: 3, lastDesiredStatus: { code: 412, description: 'schema 9.9' } },
      [],
      true,
    );
    expect(state.summary).toBe('The agent did not apply version 3 (412): schema 9.9.');
    expect(state.healthy).toBe(false);
  });

  it('when everything is applied but the runtime is offline, then the line is its last report and not healthy', () => {
    expect(deploymentState({ $version: 3 }, applied, [], true)).toMatchObject({
      summary: 'Applied version 3: every module as deployed.',
      healthy: true,
    });
    const offline = deploymentState({ $version: 3 }, applied, [], false);
    expect(offline.summary).toBe(
      'The IoT Edge runtime is offline; as it last reported: Applied version 3: every module as deployed.',
    );
    expect(offline.healthy).toBe(false);
  });
});
