import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './api-client.ts';

/** The hub's budget is spent for now (429): the console waits as told and asks again. */
export function isThrottled(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 429;
}

const THROTTLE_RETRIES = 5;

export function createQueryClient(): QueryClient {
  // A 401 anywhere means the session is over: asking who we are again shows the sign-in page.
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401)
      void client.invalidateQueries({ queryKey: ['me'] });
    // A write whose answer never came may have been applied: show everything as it is now.
    if (error instanceof ApiError && error.code === 'outcome_unknown')
      void client.invalidateQueries();
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      // /api/me answering 401 is the sign-in page itself, not news to act on.
      onError: (error, query) => query.queryKey[0] !== 'me' && onError(error),
    }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        // A 4xx will not get better by asking again (but for 429, after the wait it names);
        // a 5xx or a dropped connection might.
        retry: (count, error) =>
          isThrottled(error)
            ? count < THROTTLE_RETRIES
            : !(error instanceof ApiError && error.status >= 400 && error.status < 500) &&
              count < 2,
        retryDelay: (count, error) =>
          isThrottled(error)
            ? Math.min(60, error.retryAfterSeconds ?? 2 ** count) * 1000
            : Math.min(1000 * 2 ** count, 30_000),
      },
      mutations: { retry: false },
    },
  });
  return client;
}
