import {
  Button,
  Input,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
} from '@fluentui/react-components';
import { useState, type ReactNode } from 'react';
import type { SearchFilter } from '../lib/search-filter.ts';

/** The filter with one value set, or removed when empty. */
export function withValue<K extends string>(
  filter: SearchFilter<K>,
  key: K,
  value: string | undefined,
): SearchFilter<K> {
  const next = { ...filter };
  if (value) next[key] = value;
  else delete next[key];
  return next;
}

/**
 * A filter bar: text fields applied together with _Filter_ (or Enter), then whatever else
 * the page filters by (selects apply at once).
 */
export function FilterForm<K extends string>({
  filter,
  onFilter,
  fields,
  children,
}: {
  filter: SearchFilter<K>;
  onFilter(next: SearchFilter<K>): void;
  fields: readonly { key: K; placeholder: string; label: string }[];
  children?: ReactNode;
}) {
  const [values, setValues] = useState(
    () => Object.fromEntries(fields.map((f) => [f.key, filter[f.key] ?? ''])) as Record<K, string>,
  );
  return (
    <form
      className="action-row"
      onSubmit={(event) => {
        event.preventDefault();
        let next = filter;
        for (const field of fields) next = withValue(next, field.key, values[field.key].trim());
        onFilter(next);
      }}
    >
      {fields.map((field) => (
        <Input
          key={field.key}
          value={values[field.key]}
          onChange={(_e, d) => setValues((current) => ({ ...current, [field.key]: d.value }))}
          placeholder={field.placeholder}
          aria-label={field.label}
        />
      ))}
      <Button type="submit" appearance="primary">
        Filter
      </Button>
      {children}
    </form>
  );
}

/**
 * A paged list's states: loading, its error, empty (saying why), the rows, and a button for
 * the next page.
 */
export function PagedList({
  query,
  count,
  loading,
  empty,
  more,
  children,
}: {
  query: {
    isPending: boolean;
    error: Error | null;
    hasNextPage: boolean;
    isFetchingNextPage: boolean;
    fetchNextPage(): Promise<unknown>;
  };
  count: number;
  loading: string;
  empty: string;
  more: string;
  children: ReactNode;
}) {
  return (
    <>
      {query.isPending ? (
        <Spinner size="tiny" label={loading} />
      ) : query.error ? (
        <MessageBar intent="error">
          <MessageBarBody>{query.error.message}</MessageBarBody>
        </MessageBar>
      ) : count === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        children
      )}
      {query.hasNextPage && (
        <Button disabled={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
          {query.isFetchingNextPage ? 'Loading…' : more}
        </Button>
      )}
    </>
  );
}

/** A filter chosen from a list (the first option, with value '', means any). */
export function FilterSelect({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string | undefined;
  options: readonly (readonly [string, string])[];
  onChange(value: string): void;
}) {
  return (
    <Select aria-label={label} value={value ?? ''} onChange={(_e, d) => onChange(d.value)}>
      {options.map(([option, text]) => (
        <option key={option} value={option}>
          {text}
        </option>
      ))}
    </Select>
  );
}
