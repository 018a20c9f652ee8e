import { Button, Input, Select, ToggleButton, Tooltip } from '@fluentui/react-components';
import { PAGE_SIZES } from '@twinscope/contract';
import { useEffect, useRef, useState } from 'react';
import {
  classifyInput,
  columnsFromText,
  withInput,
  withoutFilter,
  type ListView,
} from '../filter-model.ts';
import { FilterChips } from './filter-chips.tsx';

/**
 * What the device list shows: the filter box (a prefix, tag=value or a WHERE clause; "/"
 * focuses it from anywhere), the tag columns, the page size, and the active filters as chips.
 */
export function DeviceFilterBar({
  view,
  onView,
}: {
  view: ListView;
  /** Show another view (the list's URL holds it). */
  onView(next: ListView): void;
}) {
  const [draft, setDraft] = useState('');
  const [columnsDraft, setColumnsDraft] = useState(view.columns.join(', '));
  const filterBox = useRef<HTMLInputElement>(null);

  const addFilter = () => {
    const input = classifyInput(draft);
    if (!input) return;
    setDraft('');
    onView(withInput(view, input));
  };

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (
        event.key === '/' &&
        !['INPUT', 'TEXTAREA'].includes(target.tagName) &&
        !target.isContentEditable
      ) {
        event.preventDefault();
        filterBox.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      <div className="filter-bar">
        <div role="group" aria-label="Show" className="source-switch">
          {(['devices', 'modules'] as const).map((source) => (
            <ToggleButton
              key={source}
              checked={view.source === source}
              onClick={() => view.source !== source && onView({ ...view, source })}
              title={
                source === 'modules'
                  ? 'Module twins across the fleet (FROM devices.modules), each with its device'
                  : 'Device twins'
              }
            >
              {source === 'devices' ? 'Devices' : 'Modules'}
            </ToggleButton>
          ))}
        </div>
        <Input
          ref={filterBox}
          className="filter-input"
          value={draft}
          onChange={(_e, data) => setDraft(data.value)}
          onKeyDown={(event) => event.key === 'Enter' && addFilter()}
          placeholder={
            view.source === 'modules'
              ? "Filter: device-id prefix, or a WHERE clause on module twins, e.g. moduleId = 'controller'"
              : 'Filter: device-id prefix, site=berlin, or a WHERE clause  (press / to focus)'
          }
          aria-label="Filter devices"
        />
        <Button onClick={addFilter} disabled={!draft.trim()}>
          Add filter
        </Button>
        <Tooltip
          content={
            view.source === 'modules'
              ? 'Reported property paths shown as columns, comma-separated'
              : 'Tag paths shown as columns, comma-separated'
          }
          relationship="description"
        >
          <Input
            className="columns-input"
            value={columnsDraft}
            onChange={(_e, data) => setColumnsDraft(data.value)}
            onKeyDown={(event) =>
              event.key === 'Enter' && onView({ ...view, columns: columnsFromText(columnsDraft) })
            }
            aria-label="Tag columns"
          />
        </Tooltip>
        <Select
          aria-label="Page size"
          value={String(view.filter.pageSize)}
          onChange={(_e, data) =>
            onView({ ...view, filter: { ...view.filter, pageSize: Number(data.value) } })
          }
        >
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size} per page
            </option>
          ))}
        </Select>
      </div>
      <FilterChips
        filter={view.filter}
        onDismiss={(kind, value) => onView(withoutFilter(view, kind, value))}
      />
    </>
  );
}
