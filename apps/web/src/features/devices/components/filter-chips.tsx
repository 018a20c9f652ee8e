import { Tag, TagGroup } from '@fluentui/react-components';
import type { FilterInput, ListView } from '../filter-model.ts';

/** The list's active filters as chips: the id prefix, each tag, the WHERE clause; each dismissible. */
export function FilterChips({
  filter,
  onDismiss,
}: {
  filter: ListView['filter'];
  onDismiss(kind: FilterInput['kind'], value: string): void;
}) {
  return (
    <TagGroup
      className="chips"
      aria-label="Active filters"
      onDismiss={(_e, data) => {
        const text = String(data.value);
        const at = text.indexOf(':');
        onDismiss(text.slice(0, at) as FilterInput['kind'], text.slice(at + 1));
      }}
    >
      {filter.prefix && (
        <Tag dismissible value={`prefix:${filter.prefix}`}>
          id starts with {filter.prefix}
        </Tag>
      )}
      {filter.tags.map((tag) => (
        <Tag dismissible key={tag} value={`tag:${tag}`}>
          {tag}
        </Tag>
      ))}
      {filter.where && (
        <Tag dismissible value={`where:${filter.where}`}>
          WHERE {filter.where}
        </Tag>
      )}
    </TagGroup>
  );
}
