import type { ExportRequest } from '@twinscope/contract';

/**
 * What the Export button sends: the condition as typed (a leading WHERE dropped, as the
 * device list takes it), none when the whole fleet is wanted.
 */
export function exportRequest(condition: string, includeKeys: boolean): ExportRequest {
  const filter = condition
    .trim()
    .replace(/^where(\s+|$)/i, '')
    .trim();
  return { ...(filter ? { filter } : {}), includeKeys };
}
