import { Button, Input } from '@fluentui/react-components';
import type { PropertyRow } from '../message-form.ts';

const EMPTY: PropertyRow = { name: '', value: '' };

/** A message's application properties, a name and a value a row; there is always one row. */
export function PropertyRows({
  rows,
  onChange,
}: {
  rows: PropertyRow[];
  onChange(rows: PropertyRow[]): void;
}) {
  const set = (index: number, change: Partial<PropertyRow>) =>
    onChange(rows.map((r, i) => (i === index ? { ...r, ...change } : r)));
  return (
    <div className="property-rows" aria-label="Application properties">
      {rows.map((row, index) => (
        <div className="property-row" key={index}>
          <Input
            placeholder="property"
            aria-label={`Property ${index + 1} name`}
            value={row.name}
            onChange={(_e, d) => set(index, { name: d.value })}
          />
          <Input
            placeholder="value"
            aria-label={`Property ${index + 1} value`}
            value={row.value}
            onChange={(_e, d) => set(index, { value: d.value })}
          />
          <Button
            appearance="subtle"
            aria-label={`Remove property ${index + 1}`}
            onClick={() =>
              onChange(rows.length > 1 ? rows.filter((_r, i) => i !== index) : [EMPTY])
            }
          >
            ✕
          </Button>
        </div>
      ))}
      <Button size="small" onClick={() => onChange([...rows, EMPTY])}>
        Add property
      </Button>
    </div>
  );
}
