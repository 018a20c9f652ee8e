import { Button } from '@fluentui/react-components';
import { lazy, Suspense, useState } from 'react';
import { useMe } from './use-me.ts';

// The menu (and Fluent's menu code) loads when it is first opened, not with the first page.
const UserMenu = lazy(() => import('./user-menu.tsx').then((m) => ({ default: m.UserMenu })));

/** Who is signed in, with which role: a button that opens the user menu. */
export function UserButton() {
  const me = useMe();
  const [opened, setOpened] = useState(false);
  if (!me.data) return null;
  const { user } = me.data;
  const role = user.roles.join(', ') || 'no role';
  const button = (
    <Button
      appearance="subtle"
      data-testid="user-menu"
      aria-label={`${user.name}, ${role}`}
      aria-haspopup="menu"
      onClick={() => setOpened(true)}
    >
      {user.name} · {role}
    </Button>
  );
  if (!opened) return button;
  return (
    <Suspense fallback={button}>
      <UserMenu initiallyOpen />
    </Suspense>
  );
}
