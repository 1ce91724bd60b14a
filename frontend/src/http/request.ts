/**
 * The app's only way to talk to the BFF: same-origin fetch (the HttpOnly session cookie goes
 * along; the app never sees it), JSON in and out, and one error type that carries the common
 * error envelope `{ error: { code, message, details, requestId } }`.
 */

export type FailureKind = 'http' | 'network' | 'format';

export class ApiFailure extends Error {
  readonly kind: FailureKind;
  readonly status: number;
  readonly code: string;
  /** `details.reason` when the server gave one (no_session, session_expired, …). */
  readonly reason: string | undefined;
  readonly requestId: string | undefined;
  /** From Retry-After on 429/503: when asking again makes sense. */
  readonly retryAfterSeconds: number | undefined;
  /** The envelope's `details` as sent (field reasons of a 422, the current ETag of a 412, …). */
  readonly details: unknown;

  constructor(init: { kind: FailureKind; status?: number; code?: string; message: string; reason?: string; requestId?: string; retryAfterSeconds?: number; details?: unknown }) {
    super(init.message);
    this.name = 'ApiFailure';
    this.kind = init.kind;
    this.status = init.status ?? 0;
    this.code = init.code ?? init.kind;
    this.reason = init.reason;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.details = init.details;
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }
}

type SessionEndedListener = (failure: ApiFailure) => void;
const sessionEndedListeners = new Set<SessionEndedListener>();

/** Called whenever a signed-in request comes back 401: the session is gone, whatever the page. */
export function onSessionEnded(listener: SessionEndedListener): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

interface ErrorEnvelope {
  error?: { code?: unknown; message?: unknown; details?: { reason?: unknown }; requestId?: unknown };
}

async function failureFrom(response: Response): Promise<ApiFailure> {
  let body: ErrorEnvelope = {};
  try {
    body = (await response.json()) as ErrorEnvelope;
  } catch {
    /* not JSON (a proxy error page): status alone must do */
  }
  const error = body.error ?? {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return new ApiFailure({
    kind: 'http',
    status: response.status,
    code: text(error.code) ?? `http_${response.status}`,
    message: text(error.message) ?? `HTTP ${response.status}`,
    reason: text(error.details?.reason),
    requestId: text(error.requestId) ?? response.headers.get('x-request-id') ?? undefined,
    retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
    details: error.details,
  });
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Extra request headers (e.g. If-Match on a CRM update). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not announce a 401 as an ended session (the first "am I signed in?" check). */
  expectSignedOut?: boolean;
}

export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await requestJsonWithHeaders<T>(path, options)).body;
}

/** The same request, also answering the response headers (an ETag to send back as If-Match). */
export async function requestJsonWithHeaders<T>(path: string, options: RequestOptions = {}): Promise<{ body: T; headers: Headers }> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiFailure({ kind: 'network', message: error instanceof Error ? error.message : String(error) });
  }
  if (!response.ok) {
    const failure = await failureFrom(response);
    if (failure.isUnauthorized && !options.expectSignedOut) for (const listener of sessionEndedListeners) listener(failure);
    throw failure;
  }
  try {
    return { body: (await response.json()) as T, headers: response.headers };
  } catch {
    throw new ApiFailure({ kind: 'format', status: response.status, message: 'The server answered with something that is not JSON' });
  }
}

/** A document from a signed CDN URL: a plain cross-origin GET that carries no cookie at all. */
export async function fetchSignedDocument<T>(url: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'omit', mode: 'cors', signal, referrerPolicy: 'no-referrer' });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiFailure({ kind: 'network', message: `CDN unreachable: ${error instanceof Error ? error.message : String(error)}` });
  }
  if (!response.ok) throw await failureFrom(response);
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiFailure({ kind: 'format', status: response.status, message: 'The CDN answered with something that is not JSON' });
  }
}
