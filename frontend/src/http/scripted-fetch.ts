/**
 * Test support for the app's request-logic unit tests: a scripted fetch standing in for the
 * network. `scriptFetch` answers each URL from its route table (an unknown URL fails the way a
 * network error does) and records the URLs asked for in `seen`; `restoreFetch` puts the real one back.
 */

export type FetchScript = Record<string, () => Response | Promise<Response>>;

const realFetch = globalThis.fetch;
export const seen: string[] = [];

export function scriptFetch(routes: FetchScript): void {
  seen.length = 0;
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    const url = String(input);
    seen.push(url);
    const answer = routes[url];
    if (!answer) throw new TypeError(`Failed to fetch ${url}`);
    return answer();
  }) as typeof fetch;
}

export function restoreFetch(): void {
  globalThis.fetch = realFetch;
}

export const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
export const envelope = (status: number, code: string, reason?: string) =>
  json(status, { error: { code, message: code, requestId: 'req-123', ...(reason ? { details: { reason } } : {}) } });
