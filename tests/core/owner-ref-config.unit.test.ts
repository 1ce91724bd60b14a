import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../common/config.ts';
import { loadCoreConfig } from '../../core/config.ts';
import { createReportOwners } from '../../core/reports/owners.ts';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';

// What core needs besides the key, with made-up values (nothing connects while the config loads).
const base = {
  CLICKHOUSE_URL: 'http://127.0.0.1:8123',
  CLICKHOUSE_USER: 'core_reader',
  CLICKHOUSE_PASSWORD: 'x'.repeat(24),
  CLICKHOUSE_DATABASE: 'reports',
  TELEMETRY_DATABASE_URL: 'postgres://u:p@127.0.0.1:5436/telemetry',
  S3_ENDPOINT: 'http://127.0.0.1:9002',
  S3_REGION: 'us-east-1',
  S3_BUCKET: 'reports',
  S3_ACCESS_KEY_ID: 'id',
  S3_SECRET_ACCESS_KEY: 'secret-secret',
  KEYCLOAK_URL: 'http://127.0.0.1:8080',
  KEYCLOAK_REALM: 'reports-realm',
  CDN_URL: 'http://localhost:8002',
  CDN_SIGNING_KEY: 'y'.repeat(32),
  DEVICE_SECRET_KEY: 'z'.repeat(32),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadCoreConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('core config: OWNER_REF_KEY', () => {
  test('is required, and must be base64url of at least 32 bytes; the value is never echoed', () => {
    expect(problemsOf(base).some((p) => p.startsWith('OWNER_REF_KEY'))).toBe(true);
    const short = randomBytes(24).toString('base64url');
    const problems = problemsOf({ ...base, OWNER_REF_KEY: short });
    expect(problems).toEqual([expect.stringMatching(/^OWNER_REF_KEY: must hold at least 32 bytes/)]);
    expect(problems.join()).not.toContain(short);
    expect(problemsOf({ ...base, OWNER_REF_KEY: 'not base64url!'.repeat(4) })).toEqual([expect.stringMatching(/^OWNER_REF_KEY: must be base64url/)]);
    expect(problemsOf({ ...base, OWNER_REF_KEY: randomBytes(32).toString('base64url') })).toEqual([]);
  });

  test("core's owner lookup gives the module's ref, the same on every call", async () => {
    const key = randomBytes(32).toString('base64url');
    const owners = createReportOwners(key, { maxEntries: 2 });
    const expected = await (await createOwnerRefs(key)).of('ivan.petrov');
    expect(await owners.refOf('ivan.petrov')).toBe(expected);
    // Evicted from the small memo and computed again: still the same ref.
    await owners.refOf('a.one');
    await owners.refOf('b.two');
    expect(await owners.refOf('ivan.petrov')).toBe(expected);
    expect(await owners.refOf('IVAN.PETROV')).toBe(expected);
  });
});
