import type { StackEnv } from '../../../stack/lib/env.ts';

/**
 * A small client of Keycloak's admin REST API as the bootstrap admin (master realm, admin-cli),
 * for what the browser tests set up and tear down: whole realms (the stand-in external IdP),
 * identity providers on reports-realm, and temporary users.
 */
export interface KeycloakAdmin {
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown; location: string | null }>;
  /** The same, failing with the answer unless the status is 2xx. */
  must(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  findUser(realm: string, username: string): Promise<{ id: string; username: string } | undefined>;
  deleteUserByUsername(realm: string, username: string): Promise<void>;
}

export async function keycloakAdmin(env: StackEnv): Promise<KeycloakAdmin> {
  const origin = new URL(env.KEYCLOAK_URL!).origin;
  // admin-cli tokens live 60 s; a long test outlives one, so each call takes a fresh-enough token.
  let cached: { token: string; validUntilMs: number } | undefined;
  const token = async (): Promise<string> => {
    if (cached && cached.validUntilMs > Date.now()) return cached.token;
    const response = await fetch(`${origin}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: env.KEYCLOAK_ADMIN_USER!, password: env.KEYCLOAK_ADMIN_PASSWORD! }),
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 200) throw new Error(`keycloak admin: the bootstrap admin cannot sign in (HTTP ${response.status})`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    cached = { token: body.access_token, validUntilMs: Date.now() + Math.max(5, body.expires_in - 15) * 1000 };
    return cached.token;
  };
  await token();

  const request: KeycloakAdmin['request'] = async (method, path, body) => {
    const response = await fetch(`${origin}/admin/realms${path}`, {
      method,
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the text */
    }
    return { status: response.status, body: parsed, location: response.headers.get('location') };
  };

  const must: KeycloakAdmin['must'] = async (method, path, body) => {
    const result = await request(method, path, body);
    if (result.status >= 300) throw new Error(`keycloak admin: ${method} ${path} answered ${result.status}: ${JSON.stringify(result.body)}`);
    return result.body;
  };

  const findUser: KeycloakAdmin['findUser'] = async (realm, username) => {
    const users = (await must('GET', `/${realm}/users?username=${encodeURIComponent(username)}&exact=true`)) as Array<{ id: string; username: string }>;
    return users[0];
  };

  return {
    request,
    must,
    findUser,
    async deleteUserByUsername(realm, username) {
      const user = await findUser(realm, username);
      if (user) await must('DELETE', `/${realm}/users/${user.id}`);
    },
  };
}
