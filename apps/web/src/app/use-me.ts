import { useQuery } from '@tanstack/react-query';
import { MeResponseSchema } from '@twinscope/contract';
import { apiRequest } from '../lib/api-client.ts';
import { apiPaths } from '../lib/api-paths.ts';
import { meKey } from '../lib/query-keys.ts';

export function useMe() {
  return useQuery({
    queryKey: meKey,
    queryFn: () => apiRequest(apiPaths.me, MeResponseSchema),
    staleTime: Infinity,
  });
}
