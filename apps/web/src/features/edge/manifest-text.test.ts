import { emptyDeploymentManifest } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { checkManifestText } from './manifest-text.ts';

describe('the manifest typed in Set modules', () => {
  it('when it is a manifest the hub takes, then it is ready to send as it is', () => {
    const manifest = emptyDeploymentManifest();
    expect(checkManifestText(JSON.stringify(manifest, null, 2))).toEqual({
      value: manifest,
      markers: [],
      problems: [],
    });
  });

  it('when it is not JSON, then nothing is sent and the editor marks where it breaks', () => {
    const checked = checkManifestText('{"modulesContent": {},}');
    expect(checked.value).toBeUndefined();
    expect(checked.problems).toHaveLength(1);
    expect(checked.problems[0]).toMatch(/^The manifest is not valid JSON/);
    expect(checked.markers).toEqual([{ message: checked.problems[0], offset: expect.any(Number) }]);
  });

  it('when the hub would refuse it, then each problem is named by its path and marked at its place', () => {
    const { modulesContent } = emptyDeploymentManifest();
    const checked = checkManifestText(
      JSON.stringify({ modulesContent: { $edgeAgent: modulesContent['$edgeAgent'] } }),
    );
    expect(checked.problems).toEqual([
      '$edgeHub: Give $edgeHub: a deployment sets both system modules.',
    ]);
    expect(checked.markers).toEqual([
      {
        location: ['modulesContent', '$edgeHub'],
        message: 'Give $edgeHub: a deployment sets both system modules.',
      },
    ]);
  });
});
