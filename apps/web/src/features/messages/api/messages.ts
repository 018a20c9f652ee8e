import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  PurgeResponseSchema,
  SendMessageResponseSchema,
  SentMessagesResponseSchema,
  type CloudMessageSendRequest,
  type SentMessagesResponse,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys, messageKeys } from '../../../lib/query-keys.ts';

export function getSentMessages(
  deviceId: string,
  signal?: AbortSignal,
): Promise<SentMessagesResponse> {
  return apiRequest(
    apiPaths.messages(deviceId),
    SentMessagesResponseSchema,
    signal ? { signal } : {},
  );
}

export function getSentMessagesQueryOptions(deviceId: string) {
  return queryOptions({
    queryKey: messageKeys.recent(deviceId),
    queryFn: ({ signal }) => getSentMessages(deviceId, signal),
  });
}

/** Messages sent from Twinscope to this device (with feedback) and its queue depth. */
export function useSentMessages(deviceId: string) {
  return useQuery(getSentMessagesQueryOptions(deviceId));
}

export async function sendMessage(
  deviceId: string,
  request: CloudMessageSendRequest,
): Promise<string> {
  return (
    await apiRequest(apiPaths.messages(deviceId), SendMessageResponseSchema, {
      method: 'POST',
      body: request,
    })
  ).messageId;
}

export async function purgeMessages(deviceId: string): Promise<number> {
  return (await apiRequest(apiPaths.messages(deviceId), PurgeResponseSchema, { method: 'DELETE' }))
    .purged;
}

/** Sends a message; the list and queue depth are read again, whatever came back. */
export function useSendMessage(deviceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: CloudMessageSendRequest) => sendMessage(deviceId, request),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: messageKeys.recent(deviceId) });
      void queryClient.invalidateQueries({ queryKey: historyKeys.of({ deviceId }) });
    },
  });
}

export function usePurgeMessages(deviceId: string, onPurged: (count: number) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => purgeMessages(deviceId),
    onSuccess: onPurged,
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: messageKeys.recent(deviceId) });
      void queryClient.invalidateQueries({ queryKey: historyKeys.of({ deviceId }) });
    },
  });
}
