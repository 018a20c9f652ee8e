import { Badge, Text } from '@fluentui/react-components';
import type { MethodInvokeResponse } from '@twinscope/contract';
import { statusColour } from '../method-call.ts';

/** What the device answered: the method, its status, how long it took, and the payload. */
export function MethodAnswer({
  answer,
}: {
  answer: MethodInvokeResponse & { methodName: string };
}) {
  return (
    <div className="method-result" data-testid="method-result">
      <Text>
        <strong>{answer.methodName}</strong> answered{' '}
        <Badge color={statusColour(answer.status)} data-testid="method-status">
          {answer.status}
        </Badge>{' '}
        <span className="muted">in {answer.durationMs} ms</span>
      </Text>
      <pre data-testid="method-response">{JSON.stringify(answer.payload, null, 2)}</pre>
    </div>
  );
}
