import { describe, expect, it } from 'vitest';
import { applyChange, docOf, rebuild, type StoredChange } from './rebuild.ts';

const snapshot = {
  version: 4,
  doc: docOf({
    tags: { site: 'lyon', floor: 2 },
    properties: {
      desired: { interval: 30, $version: 2, $metadata: {} },
      reported: { interval: 30, $version: 3 },
    },
  }),
};

describe('rebuilding a twin version from a snapshot and the changes after it', () => {
  it("when updates follow the snapshot, then each merges what it names (null deletes) and IoT Hub's bookkeeping stays out", () => {
    const changes: StoredChange[] = [
      { version: 5, opType: 'updateTwin', patch: { version: 5, tags: { floor: null, zone: 'b' } } },
      {
        version: 6,
        opType: 'updateTwin',
        patch: {
          version: 6,
          properties: { desired: { interval: 60, $metadata: { x: 1 }, $version: 3 } },
        },
      },
    ];
    expect(rebuild(snapshot, changes, 4)).toEqual({ ok: true, doc: snapshot.doc });
    expect(rebuild(snapshot, changes, 6)).toEqual({
      ok: true,
      doc: {
        tags: { site: 'lyon', zone: 'b' },
        desired: { interval: 60 },
        reported: { interval: 30 },
      },
    });
  });

  it('when a replace comes, then its body is the whole twin', () => {
    const replaced = applyChange(snapshot.doc, {
      opType: 'replaceTwin',
      patch: {
        deviceId: 'd',
        etag: 'e',
        version: 5,
        tags: { only: true },
        properties: { desired: { fresh: 1, $version: 3 }, reported: { interval: 30, $version: 3 } },
      },
    });
    expect(replaced).toEqual({
      tags: { only: true },
      desired: { fresh: 1 },
      reported: { interval: 30 },
    });
  });

  it('when a version is missing, too large to keep, or older than the snapshot, then it is a gap, never guessed', () => {
    const withHole: StoredChange[] = [
      { version: 5, opType: 'updateTwin', patch: { tags: { a: 1 } } },
      { version: 7, opType: 'updateTwin', patch: { tags: { a: 3 } } },
    ];
    expect(rebuild(snapshot, withHole, 5)).toMatchObject({ ok: true });
    expect(rebuild(snapshot, withHole, 7)).toEqual({
      ok: false,
      reason: 'version 6 was never seen',
    });
    expect(rebuild(snapshot, [{ version: 5, opType: 'updateTwin', patch: null }], 5)).toEqual({
      ok: false,
      reason: 'version 5 was too large to keep',
    });
    expect(rebuild(snapshot, [], 3)).toEqual({ ok: false, reason: 'before the snapshot' });
    expect(rebuild(snapshot, [], 9)).toEqual({ ok: false, reason: 'version 9 was never seen' });
  });
});
