import { useQuery } from '@tanstack/react-query';
import { MeResponseSchema } from '@twinscope/contract';
import { apiRequest } from '../lib/api-client.ts';

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: () => apiRequest('/api/me', MeResponseSchema),
    staleTime: Infinity,
  });
}
