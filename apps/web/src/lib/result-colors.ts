/** How a recorded outcome (audit, timeline) is coloured. */
export const RESULT_COLOR = {
  succeeded: 'success',
  refused: 'warning',
  failed: 'danger',
  unknown: 'informative',
} as const;
