import { queryOptions, useQuery } from '@tanstack/react-query';
import {
  TimelineResponseSchema,
  type TimelineKind,
  type TimelineResponse,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { timelineKeys } from '../../../lib/query-keys.ts';

export interface TimelineRequest {
  deviceId: string;
  /** ISO 8601; where the read from the hub's endpoint starts. */
  since: string;
  moduleId?: string;
  kinds?: TimelineKind[];
}

export function getTimeline(
  request: TimelineRequest,
  signal?: AbortSignal,
): Promise<TimelineResponse> {
  return apiRequest(
    apiPaths.timeline(request.deviceId, {
      since: request.since,
      ...(request.kinds ? { kinds: request.kinds } : {}),
      ...(request.moduleId !== undefined ? { moduleId: request.moduleId } : {}),
    }),
    TimelineResponseSchema,
    signal ? { signal } : {},
  );
}

export function getTimelineQueryOptions(request: TimelineRequest) {
  return queryOptions({
    queryKey: timelineKeys.of(request.deviceId, request.since, request.moduleId, request.kinds),
    queryFn: ({ signal }) => getTimeline(request, signal),
    // Reading the endpoint back is costly; what happens next arrives live instead.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    retry: false,
  });
}

/** What happened to a device since a time, read back once; `enabled` false: not yet. */
export function useTimeline(request: TimelineRequest, enabled = true) {
  return useQuery({ ...getTimelineQueryOptions(request), enabled });
}
