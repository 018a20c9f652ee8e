import { describe, expect, it } from 'vitest';
import { dockerModule, emptyDeploymentManifest } from './edge-manifest.ts';
import { checkDeploymentManifest } from './edge-manifest-check.ts';

const DESIRED = 'properties.desired';

describe('checkDeploymentManifest', () => {
  it('when the manifest is what a new Edge device starts from, then nothing is wrong', () => {
    expect(checkDeploymentManifest(emptyDeploymentManifest())).toEqual([]);
    expect(
      checkDeploymentManifest(emptyDeploymentManifest({ sensor: dockerModule('contoso/s:1') })),
    ).toEqual([]);
  });

  it('when it is not a manifest at all, then it says what one looks like', () => {
    expect(checkDeploymentManifest([])).toEqual([
      expect.objectContaining({ path: '', location: [] }),
    ]);
  });

  it("when a module's createOptions is an object, then the problem names its path and the editor's location", () => {
    const manifest = emptyDeploymentManifest({
      sensor: { ...dockerModule('contoso/s:1'), settings: { image: 'x', createOptions: {} } },
    });
    const [problem, ...rest] = checkDeploymentManifest(manifest);
    expect(rest).toEqual([]);
    expect(problem?.path).toBe('$edgeAgent.modules.sensor.settings.createOptions');
    expect(problem?.location).toEqual([
      'modulesContent',
      '$edgeAgent',
      DESIRED,
      'modules',
      'sensor',
      'settings',
      'createOptions',
    ]);
  });

  it('when a route has no INTO and $edgeAgent is missing, then both are reported', () => {
    const manifest = {
      modulesContent: {
        $edgeHub: { [DESIRED]: { schemaVersion: '1.1', routes: { up: 'FROM /messages/*' } } },
      },
    };
    expect(checkDeploymentManifest(manifest).map((p) => p.path)).toEqual([
      '$edgeHub.routes.up',
      '$edgeAgent',
    ]);
  });

  it('when a custom module is named like a system module, then it belongs in systemModules', () => {
    const problems = checkDeploymentManifest(
      emptyDeploymentManifest({ edgeHub: dockerModule('contoso/hub:1') }),
    );
    expect(problems.map((p) => p.message)).toContain(
      'edgeHub is a system module: it belongs in systemModules.',
    );
  });
});
