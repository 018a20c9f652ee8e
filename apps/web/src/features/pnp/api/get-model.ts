import { useQuery } from '@tanstack/react-query';
import type { PnpModel, TwinRef } from '@twinscope/contract';
import { z } from 'zod';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { modelKeys } from '../../../lib/query-keys.ts';
import { telemetryFields } from '../pnp-model.ts';

const ModelResponseSchema = z.object({
  modelId: z.string(),
  repository: z.string().optional(),
  // Parsed and checked by the BFF (DTDL v2 or v3); kept as it answers.
  model: z.custom<PnpModel>(
    (value) => typeof value === 'object' && value !== null && 'root' in value,
    'a model',
  ),
});

/** The model a Plug and Play device or module announced; asked only when its twin names one. */
export function useModel(target: TwinRef, modelId: string | undefined) {
  return useQuery({
    queryKey: modelKeys.of(target, modelId ?? ''),
    queryFn: ({ signal }) => apiRequest(apiPaths.model(target), ModelResponseSchema, { signal }),
    enabled: Boolean(modelId),
    staleTime: 10 * 60_000,
    retry: false,
  });
}

/** Names and units of a Plug and Play device's telemetry fields, once its model is read. */
export function useTelemetryFields(target: TwinRef, modelId: string | undefined) {
  const model = useModel(target, modelId);
  return model.data ? telemetryFields(model.data.model) : undefined;
}
