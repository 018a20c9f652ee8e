import type { DeviceFilterRequest } from '@twinscope/contract';

/** The devices a list filter matches, in words: "ids starting with b, tag site=berlin". */
export function describeFilter(filter: DeviceFilterRequest): string {
  const parts = [
    filter.prefix && `ids starting with ${filter.prefix}`,
    ...(filter.tags ?? []).map((t) => `tag ${t}`),
    filter.where && `WHERE ${filter.where}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'every device';
}

/** How long the writes take, rounded to what an operator plans with: seconds, minutes, hours. */
export function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
