import { describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { createBffApp } from '../../edge/bff/app.ts';
import { buildBffDeps } from '../../edge/bff/deps.ts';
import type { IdentityProvider } from '../../edge/bff/keycloak.ts';
import { createMemoryLruCache } from '../../edge/cdn/cache/memory-lru.ts';
import { createCdnApp } from '../../edge/cdn/app.ts';
import { buildCdnDeps } from '../../edge/cdn/deps.ts';
import { OriginUnavailable, type ReportOrigin } from '../../edge/cdn/s3-origin.ts';
import { loadBffConfig, loadCdnConfig } from '../../edge/config.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';
import type { EdgeStore } from '../../edge/store/store.ts';

/** /health/ready on the edge's public listeners: what each checks, and what it does not tell the public. */
const BFF_ENV = {
  KEYCLOAK_URL: 'http://kc.invalid',
  KEYCLOAK_REALM: 'reports-realm',
  BFF_CLIENT_SECRET: 'unit-test-client-secret',
  SESSION_ENCRYPTION_KEY: 'unit-test-session-key-0123456789',
  CORE_URL: 'http://core.invalid',
  CDN_URL: 'http://localhost:8002',
};
const CDN_ENV = { CDN_SIGNING_KEY: 'unit-test-cdn-signing-key-0123456789abcdef', S3_ENDPOINT: 'http://s3.invalid', S3_ACCESS_KEY_ID: 'unit', S3_SECRET_ACCESS_KEY: 'unit-test-secret', S3_REGION: 'us-east-1', S3_BUCKET: 'reports' };
const JWKS = { keys: [{ kty: 'RSA', alg: 'RS256', use: 'sig', kid: 'k', n: 'AQAB', e: 'AQAB' }] };

/** Never called by readiness; logout only asks it for the end-session URL when the app is built. */
const idp = { endSessionUrl: () => 'http://kc.invalid/logout' } as unknown as IdentityProvider;

interface Readiness {
  status: string;
  failed: string[];
  checks: Record<string, { ok: boolean; error?: string }>;
}

async function bff(options: { coreStatus?: number; jwks?: unknown; store?: EdgeStore } = {}) {
  const calls: string[] = [];
  const logger = createMemoryLogger('bff');
  const deps = await buildBffDeps(loadBffConfig(BFF_ENV), {
    store: options.store ?? createMemoryStore(),
    logger,
    idp,
    fetchUpstream: async (url) => {
      calls.push(url);
      if (url.endsWith('/protocol/openid-connect/certs')) return Response.json(options.jwks ?? JWKS);
      if (url === 'http://core.invalid/health/live') return new Response('{}', { status: options.coreStatus ?? 200 });
      throw new Error(`connect ECONNREFUSED for ${url}`);
    },
  });
  return { app: createBffApp(deps), calls, logger };
}

const ready = async (app: { request: (path: string) => Response | Promise<Response> }) => {
  const response = await app.request('/health/ready');
  return { response, body: (await response.json()) as Readiness };
};

describe('BFF /health/ready', () => {
  test('ready when the store, the realm keys and core answer', async () => {
    const { app, calls } = await bff();
    const { response, body } = await ready(app);
    expect(response.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['core', 'keycloak', 'store']);
    expect(calls.sort()).toEqual(['http://core.invalid/health/live', 'http://kc.invalid/realms/reports-realm/protocol/openid-connect/certs']);
  });

  test('core down: 503 with Retry-After naming core; the message goes to the log, not to the public', async () => {
    const { app, logger } = await bff({ coreStatus: 502 });
    const { response, body } = await ready(app);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(body.failed).toEqual(['core']);
    expect(body.checks.core).toEqual({ ok: false, ms: expect.any(Number) } as never);
    expect(JSON.stringify(body)).not.toContain('core.invalid');
    const logged = logger.lines.find((line) => line.event === 'health.not_ready');
    expect(JSON.stringify(logged)).toContain('core.invalid/health/live answered 502');
  });

  test('a key set without an RS256 signing key, or a store that fails, is not ready', async () => {
    const noKeys = await ready((await bff({ jwks: { keys: [{ kty: 'EC', alg: 'ES256' }] } })).app);
    expect(noKeys.body.failed).toEqual(['keycloak']);
    const store = createMemoryStore();
    const broken = { ...store, get: () => Promise.reject(new Error('redis: connection refused')) } as EdgeStore;
    const storeDown = await ready((await bff({ store: broken })).app);
    expect(storeDown.response.status).toBe(503);
    expect(storeDown.body.failed).toEqual(['store']);
  });

  test('a burst of readiness requests probes the dependencies once per second, not once per request', async () => {
    const { app, calls } = await bff();
    await Promise.all(Array.from({ length: 20 }, () => app.request('/health/ready')));
    expect(calls.length).toBe(2);
  });
});

describe('CDN /health/ready', () => {
  const cdn = (origin: ReportOrigin) => createCdnApp(buildCdnDeps(loadCdnConfig(CDN_ENV), { cache: createMemoryLruCache(1 << 20), origin, logger: createMemoryLogger('cdn') }));

  test('ready when the bucket answers a signed read (404 for the probe key is an answer)', async () => {
    const keys: string[] = [];
    const { response, body } = await ready(cdn({ fetch: async (key) => (keys.push(key), { status: 'not_found' }) }));
    expect(response.status).toBe(200);
    expect(body.checks.s3?.ok).toBe(true);
    expect(keys).toEqual(['health/readiness-probe.json']);
  });

  test('S3 unreachable: 503 naming s3, no internal address in the answer', async () => {
    const { response, body } = await ready(
      cdn({
        fetch: async () => {
          throw new OriginUnavailable('S3 unreachable: connect ECONNREFUSED 127.0.0.1:9002');
        },
      }),
    );
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(['s3']);
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
  });
});
