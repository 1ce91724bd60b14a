import type { Page } from 'playwright-core';
import type { RecordedResponse } from './browser.ts';

/**
 * The BFF promise, checked from the browser's side: no access, refresh or ID token is readable by
 * page JavaScript, nor present in any response the browser received.
 */

/** Compact JWS (three base64url parts, JSON header) and JWE (five parts) as Keycloak issues them. */
const JWT_SHAPES = [/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/];

export function findJwt(text: string | undefined): string | undefined {
  if (!text) return undefined;
  for (const shape of JWT_SHAPES) {
    const match = shape.exec(text);
    if (match) return match[0];
  }
  return undefined;
}

export interface Leak {
  where: string;
  sample: string;
}

/**
 * Every recorded response: bodies from any origin, and headers — except Keycloak's own
 * Set-Cookie on its own origin (KEYCLOAK_IDENTITY, KC_RESTART: Keycloak's SSO session cookies,
 * HttpOnly for Keycloak's host, never OAuth tokens and never readable by the app).
 */
export function findLeaksInResponses(responses: readonly RecordedResponse[], keycloakOrigin: string): Leak[] {
  const leaks: Leak[] = [];
  for (const response of responses) {
    const origin = new URL(response.url).origin;
    const inBody = findJwt(response.body);
    if (inBody) leaks.push({ where: `body of ${response.status} ${response.url}`, sample: inBody.slice(0, 24) });
    for (const [name, value] of Object.entries(response.headers)) {
      if (name === 'set-cookie' && origin === keycloakOrigin) continue;
      const inHeader = findJwt(value);
      if (inHeader) leaks.push({ where: `header ${name} of ${response.url}`, sample: inHeader.slice(0, 24) });
    }
    const inUrl = findJwt(decodeURIComponent(response.url));
    if (inUrl) leaks.push({ where: `URL ${response.url.slice(0, 80)}`, sample: inUrl.slice(0, 24) });
  }
  return leaks;
}

/** What the app's own JavaScript can read: cookies, local and session storage. */
export async function readableByPageScript(page: Page): Promise<{ cookie: string; localStorage: string; sessionStorage: string }> {
  return page.evaluate(() => {
    const dump = (storage: Storage) => JSON.stringify(Object.fromEntries(Array.from({ length: storage.length }, (_, i) => storage.key(i)!).map((key) => [key, storage.getItem(key)])));
    return { cookie: document.cookie, localStorage: dump(window.localStorage), sessionStorage: dump(window.sessionStorage) };
  });
}
