import {
  ApiErrorSchema,
  LogoutResponseSchema,
  type ApiError as ApiErrorBody,
  type ApiErrorCode,
  type Twin,
  type Violation,
} from '@twinscope/contract';
import { z } from 'zod';
import { apiPaths } from './api-paths.ts';

/** The one error type the console sees from its BFF. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly requestId: string;
  readonly violations: Violation[];
  readonly current: Twin | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.code = body.code;
    this.requestId = body.requestId;
    this.violations = body.violations ?? [];
    this.current = body.current;
    this.retryAfterSeconds = body.retryAfterSeconds;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

let csrfToken: Promise<string> | undefined;

/** The CSRF token from /api/me, fetched once and sent on every state-changing request. */
function csrf(): Promise<string> {
  csrfToken ??= fetch(apiPaths.me, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  })
    .then((response) => response.json() as Promise<{ csrfToken?: string }>)
    .then((body) => body.csrfToken ?? '')
    .catch((error: unknown) => {
      csrfToken = undefined;
      throw error;
    });
  return csrfToken;
}

/** The only place the console calls fetch: JSON in, schema-checked JSON out, typed errors. */
export async function apiRequest<T extends z.ZodType>(
  path: string,
  schema: T,
  options: RequestOptions = {},
): Promise<z.infer<T>> {
  let response: Response;
  try {
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET') headers['X-CSRF-Token'] = await csrf();
    response = await fetch(path, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
      credentials: 'same-origin',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, {
      code: 'hub_unreachable',
      message: 'Twinscope cannot be reached. Check your connection.',
      requestId: '',
    });
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const parsed = ApiErrorSchema.safeParse(json);
    throw new ApiError(
      response.status,
      parsed.success
        ? parsed.data
        : {
            code: 'internal_error',
            message: `Twinscope answered ${response.status}.`,
            requestId: '',
          },
    );
  }
  if (response.status === 204) return undefined as z.infer<T>;
  return schema.parse(json);
}

const NoContent = z.unknown();

/** Sends a request whose answer carries nothing the caller needs (204). */
export async function apiSend(path: string, options: RequestOptions = {}): Promise<void> {
  await apiRequest(path, NoContent, { method: 'POST', ...options });
}

/** Ends the session in the BFF, then sends the browser to the identity provider's sign-out. */
export async function signOut(): Promise<void> {
  // A session that has already ended has nothing to end: go to the start page either way.
  const body = await apiRequest('/auth/logout', LogoutResponseSchema, { method: 'POST' }).catch(
    () => ({
      logoutUrl: '/',
    }),
  );
  csrfToken = undefined;
  window.location.assign(body.logoutUrl);
}

/** Starts sign-in, coming back to where the operator was. */
export function signIn(): void {
  const here = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/auth/login?returnTo=${encodeURIComponent(here)}`);
}
