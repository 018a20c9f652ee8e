import { Button, Text } from '@fluentui/react-components';
import { useEffect, useState } from 'react';

/** A value devices are given (the id scope, the endpoint): shown as text, with Copy. */
export function CopyValue({ label, value }: { label: string; value: string | undefined }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  if (!value) return <span className="muted">not known</span>;
  return (
    <span className="copy-value">
      <code data-testid={`${label.toLowerCase().replaceAll(' ', '-')}-value`}>{value}</code>
      <Button
        size="small"
        aria-label={`Copy the ${label}`}
        onClick={() =>
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </Button>
      <Text size={100} className="visually-hidden" role="status">
        {copied ? `${label} copied` : ''}
      </Text>
    </span>
  );
}
