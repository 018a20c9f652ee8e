import { Tooltip } from '@fluentui/react-components';
import type { ReactElement } from 'react';

/** A control with the policy's reason beside it when the operator may not use it. */
export function Refusable({
  refusal,
  children,
}: {
  refusal: string | undefined;
  children: ReactElement;
}) {
  return refusal === undefined ? (
    children
  ) : (
    <Tooltip content={refusal} relationship="description">
      {children}
    </Tooltip>
  );
}
