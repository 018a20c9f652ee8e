import { useSyncExternalStore } from 'react';

const query =
  typeof window !== 'undefined' ? window.matchMedia('(prefers-color-scheme: dark)') : undefined;

/** Follows the operating system's light or dark setting, live. */
export function useDarkMode(): boolean {
  return useSyncExternalStore(
    (listener) => {
      query?.addEventListener('change', listener);
      return () => query?.removeEventListener('change', listener);
    },
    () => query?.matches ?? false,
  );
}
