import { useMutation } from '@tanstack/react-query';
import {
  TwinResponseSchema,
  type Twin,
  type TwinPatchRequest,
  type TwinRef,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';

function twinPath(ref: TwinRef): string {
  const device = `/api/devices/${encodeURIComponent(ref.deviceId)}`;
  return ref.moduleId === undefined
    ? `${device}/twin`
    : `${device}/modules/${encodeURIComponent(ref.moduleId)}/twin`;
}

export async function patchTwin(ref: TwinRef, request: TwinPatchRequest): Promise<Twin> {
  return (await apiRequest(twinPath(ref), TwinResponseSchema, { method: 'PATCH', body: request }))
    .twin;
}

export function usePatchTwin(ref: TwinRef, onSaved: (twin: Twin) => void) {
  return useMutation({
    mutationFn: (request: TwinPatchRequest) => patchTwin(ref, request),
    onSuccess: onSaved,
  });
}
