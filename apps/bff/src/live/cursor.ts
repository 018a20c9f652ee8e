import type { EventSourcePosition } from '../adapters/event-hubs.ts';

export type { EventSourcePosition };

const PREFIX = 'eh:';

/**
 * An SSE id made of the consumer's position in every partition (`eh:12.-1.40.7`). It means
 * the same on every BFF replica reading that event hub and survives restarts, so a tab can
 * resume from it anywhere.
 */
export function encodeCursor(positions: readonly number[]): string {
  return `${PREFIX}${positions.map((p) => (Number.isInteger(p) ? p : -1)).join('.')}`;
}

export function decodeCursor(id: string | undefined): number[] | undefined {
  if (!id?.startsWith(PREFIX)) return undefined;
  const parts = id.slice(PREFIX.length).split('.');
  if (parts.length === 0 || parts.length > 128) return undefined;
  const positions = parts.map(Number);
  return positions.every((p) => Number.isSafeInteger(p) && p >= -1) ? positions : undefined;
}
