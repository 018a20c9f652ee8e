import { describe, expect, it } from 'vitest';
import { moduleRows } from './edge-service.ts';

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
