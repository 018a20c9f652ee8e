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
import { fileNameOf } from './download.ts';

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
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, with its own content type (an import file's JSON lines, say). */
  file?: { content: string | Blob; type: string };
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

const unreachable = () =>
  new ApiError(0, {
    code: 'hub_unreachable',
    message: 'Twinscope cannot be reached. Check your connection.',
    requestId: '',
  });

/**
 * Every request the console makes (this module is the only one calling fetch): its body,
 * its CSRF token, and a lost connection as an ApiError.
 */
async function send(path: string, options: RequestOptions, accept: string): Promise<Response> {
  try {
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { Accept: accept };
    let body: string | Blob | undefined;
    if (options.file) {
      headers['Content-Type'] = options.file.type;
      body = options.file.content;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (method !== 'GET') headers['X-CSRF-Token'] = await csrf();
    return await fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(options.signal ? { signal: options.signal } : {}),
      credentials: 'same-origin',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw unreachable();
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** What a failed answer says, as the one error type. */
function failureOf(status: number, json: unknown): ApiError {
  const parsed = ApiErrorSchema.safeParse(json);
  return new ApiError(
    status,
    parsed.success
      ? parsed.data
      : {
          code: 'internal_error',
          message: `Twinscope answered ${status}.`,
          requestId: '',
        },
  );
}

/** JSON in, schema-checked JSON out, typed errors. */
export async function apiRequest<T extends z.ZodType>(
  path: string,
  schema: T,
  options: RequestOptions = {},
): Promise<z.infer<T>> {
  const response = await send(path, options, 'application/json');
  const json = parseJson(await response.text());
  if (!response.ok) throw failureOf(response.status, json);
  if (response.status === 204) return undefined as z.infer<T>;
  return schema.parse(json);
}

/** A file the BFF answers as an attachment: its content, and the name the BFF gives it. */
export async function apiFile(
  path: string,
  options: RequestOptions = {},
): Promise<{ blob: Blob; name: string | undefined }> {
  const response = await send(path, options, 'application/x-ndjson, application/json');
  if (!response.ok) throw failureOf(response.status, parseJson(await response.text()));
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    // The connection dropped part way through the file.
    throw unreachable();
  }
  return { blob, name: fileNameOf(response.headers.get('Content-Disposition')) };
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
