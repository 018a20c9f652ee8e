import { Button, Input } from '@fluentui/react-components';

/**
 * A revealed secret (a connection string): shown read-only with Copy and Hide. It lives only
 * in the mutation that fetched it, never in a query cache.
 */
export function SecretValue({
  value,
  label,
  testId,
  onHide,
}: {
  value: string;
  label: string;
  testId: string;
  onHide(): void;
}) {
  return (
    <div className="secret" data-testid={testId}>
      <Input readOnly value={value} className="secret-value" aria-label={label} />
      <Button onClick={() => void navigator.clipboard?.writeText(value)}>Copy</Button>
      <Button onClick={onHide}>Hide</Button>
    </div>
  );
}
