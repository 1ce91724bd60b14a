import { describe, expect, test } from 'bun:test';
import { signPurgeRequest } from '../../common/cdn/signing.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { createCdnApp } from '../../edge/cdn/app.ts';
import { createMemoryLruCache } from '../../edge/cdn/cache/memory-lru.ts';
import { buildCdnDeps } from '../../edge/cdn/deps.ts';
import { describePurgeTarget } from '../../edge/cdn/purge.ts';
import { loadCdnConfig } from '../../edge/config.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';

// Prefixes from older callers were usernames and keys are owner refs: the purge log line and the
// request's wide event say which kind of target and how many, never the entries themselves.
const CDN = 'http://cdn.test';
// No stack needed: the purge never reaches S3, and nonces go to an in-memory store.
const env = {
  CDN_URL: CDN,
  CDN_SIGNING_KEY: 'k'.repeat(48),
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_REGION: 'us-east-1',
  S3_BUCKET: 'reports',
  S3_ACCESS_KEY_ID: 'test',
  S3_SECRET_ACCESS_KEY: 'test-secret',
};

describe('purge logging', () => {
  test('describePurgeTarget gives kind and count only', () => {
    expect(describePurgeTarget({ all: true })).toEqual({ kind: 'all', count: null });
    expect(describePurgeTarget({ prefixes: ['ivan.petrov/', 'anna.smirnova/'] })).toEqual({ kind: 'prefixes', count: 2 });
    expect(describePurgeTarget({ keys: ['a/b.json'] })).toEqual({ kind: 'keys', count: 1 });
  });

  test('a signed prefix purge is applied and logged without its prefixes', async () => {
    const logger = createMemoryLogger('cdn');
    const config = loadCdnConfig(env);
    const app = createCdnApp(buildCdnDeps(config, { cache: createMemoryLruCache(1 << 20), logger, store: createMemoryStore() }));
    const body = JSON.stringify({ prefixes: ['ivan.petrov/', 'anna.smirnova/'] });
    const headers = { ...(await signPurgeRequest(body, config.CDN_SIGNING_KEY, Math.floor(Date.now() / 1000))), 'content-type': 'application/json' };
    const response = await app.request(`${CDN}/purge`, { method: 'POST', headers, body });
    expect(response.status).toBe(200);
    const logged = JSON.stringify(logger.lines);
    expect(logger.lines.find((line) => line.event === 'cdn.purged')).toMatchObject({ kind: 'prefixes', count: 2 });
    expect(logged).not.toContain('ivan.petrov');
    expect(logged).not.toContain('anna.smirnova');
  });
});
