import {
  Button,
  Checkbox,
  Input,
  Menu,
  MenuButton,
  MenuGroup,
  MenuGroupHeader,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { navigate } from '../../../lib/router.tsx';
import { useDeleteView, useSavedViews, useSaveView } from '../api/saved-views.ts';
import { sameView, searchFromView, specOf, viewOfSpec, type ListView } from '../filter-model.ts';

/**
 * Views of the list saved under a name: one's own, and the team's (shared by Operators).
 * Choosing one opens it (its URL is the view); the view on screen can be saved, and deleted
 * when it is a saved one its viewer may delete.
 */
export function SavedViews({
  view,
  shareRefusal,
}: {
  view: ListView;
  /** Why this person may not share with the team (the policy's reason), if they may not. */
  shareRefusal: string | undefined;
}) {
  const views = useSavedViews();
  const save = useSaveView();
  const remove = useDeleteView();
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const all = views.data ?? [];
  const current = all.find((v) => sameView(viewOfSpec(v.view), view));
  const open = (spec: (typeof all)[number]['view']) =>
    navigate(`/devices${searchFromView(viewOfSpec(spec))}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      { name: name.trim(), shared, view: specOf(view) },
      {
        onSuccess: () => {
          setSaving(false);
          setName('');
        },
      },
    );
  };
  const group = (title: string, list: typeof all) =>
    list.length > 0 && (
      <MenuGroup>
        <MenuGroupHeader>{title}</MenuGroupHeader>
        {list.map((v) => (
          <MenuItem key={v.id} onClick={() => open(v.view)}>
            {v.name}
            {v.view.source === 'modules' ? ' (modules)' : ''}
          </MenuItem>
        ))}
      </MenuGroup>
    );
  const deleteRefusal = current?.shared ? shareRefusal : undefined;
  return (
    <div className="saved-views">
      <Menu>
        <MenuTrigger disableButtonEnhancement>
          <MenuButton disabled={all.length === 0} title="Views saved under a name">
            Views{all.length > 0 ? ` (${all.length})` : ''}
          </MenuButton>
        </MenuTrigger>
        <MenuPopover>
          <MenuList>
            {group(
              'Yours',
              all.filter((v) => !v.shared),
            )}
            {group(
              "The team's",
              all.filter((v) => v.shared),
            )}
          </MenuList>
        </MenuPopover>
      </Menu>
      {!saving && (
        <Button onClick={() => setSaving(true)} disabled={current !== undefined}>
          Save view…
        </Button>
      )}
      {current && (
        <Text size={200} data-testid="current-view">
          Saved view: <strong>{current.name}</strong>
          {current.shared ? ` (the team's, by ${current.owner.name})` : ' (yours)'}{' '}
          <Tooltip content={deleteRefusal ?? 'Delete this saved view'} relationship="description">
            <Button
              size="small"
              appearance="subtle"
              disabled={deleteRefusal !== undefined || remove.isPending}
              onClick={() => remove.mutate(current.id)}
            >
              Delete
            </Button>
          </Tooltip>
        </Text>
      )}
      {saving && (
        <form className="save-view" onSubmit={submit} aria-label="Save this view">
          <Input
            aria-label="View name"
            placeholder="Name, e.g. Eco HVAC controllers"
            value={name}
            onChange={(_e, d) => setName(d.value)}
            required
          />
          <Tooltip
            content={shareRefusal ?? 'Everyone in the team sees it (recorded in the audit trail)'}
            relationship="description"
          >
            <Checkbox
              label="Share with the team"
              checked={shared}
              disabled={shareRefusal !== undefined}
              onChange={(_e, d) => setShared(d.checked === true)}
            />
          </Tooltip>
          <Button type="submit" appearance="primary" disabled={!name.trim() || save.isPending}>
            Save
          </Button>
          <Button onClick={() => setSaving(false)}>Cancel</Button>
          {save.isError && (
            <Text role="alert" className="pnp-error">
              {save.error.message}
            </Text>
          )}
        </form>
      )}
      {remove.isError && (
        <Text role="alert" className="pnp-error">
          {remove.error.message}
        </Text>
      )}
    </div>
  );
}
