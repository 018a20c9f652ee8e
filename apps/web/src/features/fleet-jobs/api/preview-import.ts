import { useMutation } from '@tanstack/react-query';
import { ImportPreviewSchema, type ImportPreview } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';

/** An import file as it is sent: the JSON lines the operator chose, read once in the browser. */
export const importFile = (text: string) => ({ content: text, type: 'application/x-ndjson' });

/** What an import file would do to the hub as it is now, line by line; nothing changes. */
export function previewImport(text: string): Promise<ImportPreview> {
  return apiRequest(apiPaths.fleetImportPreview, ImportPreviewSchema, {
    method: 'POST',
    file: importFile(text),
  });
}

/** Previews an import: the answer belongs to the file just sent, so it is not cached. */
export function usePreviewImport() {
  return useMutation({ mutationFn: previewImport });
}
