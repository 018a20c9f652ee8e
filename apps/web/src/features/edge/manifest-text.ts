import { checkDeploymentManifest, type SetModulesRequest } from '@twinscope/contract';
import type { EditorMarker } from '../../components/monaco.tsx';
import { parseJsonText } from '../../lib/json-text.ts';

/** A deployment manifest as typed in "Set modules": what to send, or why not. */
export interface CheckedManifest {
  /** Present when the text is JSON; send it only when there are no problems. */
  value?: SetModulesRequest;
  /** Where the editor marks each problem. */
  markers: EditorMarker[];
  /** Each problem in words, prefixed by where it is. */
  problems: string[];
}

/** Checks the editor's text as the hub and the Edge agent would, before anything is sent. */
export function checkManifestText(text: string): CheckedManifest {
  const parsed = parseJsonText(text, 'The manifest');
  if (!parsed.ok)
    return {
      markers: [
        {
          message: parsed.message,
          ...(parsed.offset !== undefined ? { offset: parsed.offset } : {}),
        },
      ],
      problems: [parsed.message],
    };
  const problems = checkDeploymentManifest(parsed.value);
  return {
    value: parsed.value as SetModulesRequest,
    markers: problems.map((p) => ({ location: p.location, message: p.message })),
    problems: problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)),
  };
}
