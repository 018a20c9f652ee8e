import { FluentProvider, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { createQueryClient } from '../lib/query-client.ts';
import { useDarkMode } from '../lib/use-dark-mode.ts';
import { LiveStream } from './live-stream.tsx';
import { Pages } from './pages.tsx';
import { SessionGate } from './session-gate.tsx';

/** The console: theme, query cache, sign-in, then one live stream and the page for the path. */
export function App() {
  const dark = useDarkMode();
  const [queryClient] = useState(createQueryClient);
  useEffect(() => {
    document.documentElement.dataset['theme'] = dark ? 'dark' : 'light';
  }, [dark]);
  return (
    // No className here: Fluent copies the provider's classes onto its portal nodes, and a
    // full-height class there would cover the page. app.css sizes `#root > .fui-FluentProvider`.
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme}>
      <QueryClientProvider client={queryClient}>
        <SessionGate>
          {() => (
            <LiveStream>
              <Pages dark={dark} />
            </LiveStream>
          )}
        </SessionGate>
      </QueryClientProvider>
    </FluentProvider>
  );
}
