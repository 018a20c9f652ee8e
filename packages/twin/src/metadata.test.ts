import { describe, expect, it } from 'vitest';
import {
  emptySection,
  NEVER,
  patchSection,
  renderSection,
  replaceSection,
  stripReadOnly,
} from './metadata.ts';

const desired = (at: string) => ({ at, trackVersion: true });

describe('twin $metadata and $version', () => {
  it('when a twin is new, then its section has $version 1 and a never-updated stamp', () => {
    expect(renderSection(emptySection())).toEqual({
      $metadata: { $lastUpdated: NEVER },
      $version: 1,
    });
  });

  it('when a patch changes a nested key, then every level on its path is stamped and $version grows by one', () => {
    const first = patchSection(
      emptySection(),
      { fan: { speed: 1, dir: 'in' }, mode: 'eco' },
      desired('T1'),
    );
    const second = patchSection(first, { fan: { speed: 2 } }, desired('T2'));
    expect(second.version).toBe(3);
    expect(renderSection(second)).toEqual({
      fan: { speed: 2, dir: 'in' },
      mode: 'eco',
      $version: 3,
      $metadata: {
        $lastUpdated: 'T2',
        $lastUpdatedVersion: 3,
        mode: { $lastUpdated: 'T1', $lastUpdatedVersion: 2 },
        fan: {
          $lastUpdated: 'T2',
          $lastUpdatedVersion: 3,
          speed: { $lastUpdated: 'T2', $lastUpdatedVersion: 3 },
          dir: { $lastUpdated: 'T1', $lastUpdatedVersion: 2 },
        },
      },
    });
  });

  it('when a patch names a key __proto__, then the section stores it as data with its metadata', () => {
    const patch = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, never>;
    const next = patchSection(emptySection(), patch, desired('2026-01-01T00:00:00Z'));
    expect(Object.getPrototypeOf(next.values)).toBe(Object.prototype);
    expect(JSON.stringify(next.values)).toBe('{"__proto__":{"x":1}}');
    expect(Object.keys(next.metadata)).toContain('__proto__');
  });

  it('when a key is deleted, then its metadata goes too; reported metadata carries no version', () => {
    const reported = { at: 'T1', trackVersion: false };
    const first = patchSection(emptySection(), { a: { b: 1 }, c: 2 }, reported);
    const second = patchSection(first, { a: null }, { at: 'T2', trackVersion: false });
    expect(second.values).toEqual({ c: 2 });
    expect(second.metadata).toEqual({ $lastUpdated: 'T2', c: { $lastUpdated: 'T1' } });
  });

  it('when a section is replaced, then values and metadata are rebuilt and nulls are dropped', () => {
    const first = patchSection(emptySection(), { old: 1 }, desired('T1'));
    const replaced = replaceSection(first, { fresh: { x: null, y: 1 } }, desired('T2'));
    expect(replaced.values).toEqual({ fresh: { y: 1 } });
    expect(replaced.version).toBe(3);
    expect(replaced.metadata['old']).toBeUndefined();
  });

  it('when a client echoes $metadata and $version, then they are stripped from its patch', () => {
    expect(stripReadOnly({ a: 1, $metadata: {}, $version: 9 })).toEqual({ a: 1 });
  });
});
