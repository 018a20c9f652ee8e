import type { DeviceListResponse, Twin, TwinChangedEvent } from '@twinscope/contract';

/**
 * Puts a live twin change into a cached `{ twin }` (device or module detail). Events older
 * than or as old as what the cache holds are ignored, so a late poll never undoes a save.
 */
export function applyTwinEvent<T extends { twin: Twin }>(
  current: T | undefined,
  event: TwinChangedEvent,
): T | undefined {
  return withNewerTwin(current, event.twin);
}

/**
 * A higher version is newer. At the same version only connection state and activity can
 * have moved (they change without a twin version), so that counts as newer too.
 */
function isNewer(
  next: Twin,
  current: { version: number; connectionState?: string; lastActivityTime?: string },
): boolean {
  if (next.version !== current.version) return next.version > current.version;
  const moved = (a: string | undefined, b: string | undefined) => a !== undefined && a !== b;
  return (
    moved(next.connectionState, current.connectionState) ||
    moved(next.lastActivityTime, current.lastActivityTime)
  );
}

/** Puts `twin` in `current` when it is newer (by the rule above) and about the same twin. */
function withNewerTwin<T extends { twin: Twin }>(
  current: T | undefined,
  twin: Twin,
): T | undefined {
  if (!current) return current;
  if (
    current.twin.deviceId !== twin.deviceId ||
    (current.twin.moduleId ?? undefined) !== (twin.moduleId ?? undefined)
  ) {
    return current;
  }
  if (!isNewer(twin, current.twin)) return current;
  return { ...current, twin };
}

/** Updates a device's row in a cached list page when the event is newer than the row. */
export function applyTwinEventToList(
  page: DeviceListResponse,
  event: TwinChangedEvent,
): DeviceListResponse {
  if (event.moduleId !== undefined) return page;
  let changed = false;
  const items = page.items.map((item) => {
    if (item.deviceId !== event.deviceId || !isNewer(event.twin, item)) return item;
    changed = true;
    return {
      ...item,
      tags: event.twin.tags,
      version: event.twin.version,
      etag: event.twin.etag,
      ...(event.twin.connectionState ? { connectionState: event.twin.connectionState } : {}),
      ...(event.twin.lastActivityTime ? { lastActivityTime: event.twin.lastActivityTime } : {}),
    };
  });
  return changed ? { ...page, items } : page;
}
