import { useMutation } from '@tanstack/react-query';
import { DryRunResponseSchema, type DryRunRequest } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';

/** What a change would do to the devices a filter matches, read from the hub; nothing is written. */
export function useDryRun() {
  return useMutation({
    mutationFn: (request: DryRunRequest) =>
      apiRequest(apiPaths.rolloutDryRun, DryRunResponseSchema, { method: 'POST', body: request }),
  });
}
