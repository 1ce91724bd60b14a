import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { verifyPurgeRequest } from '../../common/cdn/signing.ts';
import { createS3Client } from '../../common/s3/client.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from './support/keycloak-people.ts';

/**
 * Invalidation with real S3 and real tokens. The CDN edge's /purge is another engineer's endpoint;
 * here a small recorder on a free port stands at CDN_URL and checks the request as the edge must
 * (signature over timestamp and body), so what core sends is verified, not assumed.
 */
let core: CoreHarness;
let admin: TestPerson;
let serviceToken: string;
const purges: Array<{ body: string; verified: unknown }> = [];
let recorder: ReturnType<typeof Bun.serve>;

const stamp = crypto.randomUUID().slice(0, 8);
/** A random owner ref (the only owner key core's invalidation accepts, common/identity/owner-ref.ts). */
const randomRef = () => Array.from(crypto.getRandomValues(new Uint8Array(32)), (byte) => 'abcdefghijklmnopqrstuvwxyz234567'[byte % 32]).join('');
const users = [randomRef(), randomRef()];
const keysOf = (user: string) => [`${user}/list/reports.json`, `${user}/summary/summary.json`, `${user}/daily/2026-11-20/report.json`];

beforeAll(async () => {
  recorder = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: async (request) => {
      const body = await request.text();
      const verified = await verifyPurgeRequest(request.headers, body, core.config.CDN_SIGNING_KEY, Math.floor(Date.now() / 1000));
      purges.push({ body, verified });
      return Response.json({ purged: JSON.parse(body) }, { status: verified.ok ? 200 : 401 });
    },
  });
  core = createCoreHarness({ CDN_URL: `http://127.0.0.1:${recorder.port}` });
  [admin, serviceToken] = await Promise.all([createTestPerson(core.env, ['administrator'], 'invadm'), serviceAccountToken(core.env)]);
}, 120_000);

afterAll(async () => {
  for (const user of users) await core.deps.reportStore.deletePrefix(`${user}/`).catch(() => undefined);
  await admin?.remove().catch((error) => console.warn('cleanup', error));
  await core?.close();
  await recorder?.stop(true);
});

async function seedObjects(store = core.deps.reportStore) {
  for (const user of users) for (const key of keysOf(user)) await store.write(key, '{}');
}

async function invalidate(body: unknown, token: string, harness = core) {
  const response = await harness.request('/api/reports/invalidate', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

describe('invalidate.happy', () => {
  test('the jobs service account deletes one user’s objects and purges the edge for that user', async () => {
    await seedObjects();
    purges.length = 0;
    const { status, body } = await invalidate({ user_ids: [users[0]] }, serviceToken);
    expect(status).toBe(200);
    expect(body.scope).toEqual([users[0]]);
    expect(body.deleted_objects).toBe(3);
    expect(body.deleted_keys.sort()).toEqual(keysOf(users[0]!).sort());
    expect(body.purge).toMatchObject({ attempted: true, ok: true, status: 200 });
    expect(purges).toHaveLength(1);
    expect(purges[0]!.verified).toMatchObject({ ok: true, nonce: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    expect(JSON.parse(purges[0]!.body)).toEqual({ prefixes: [`${users[0]}/`] });
    for (const key of keysOf(users[0]!)) expect(await core.deps.reportStore.exists(key)).toBe(false);
    for (const key of keysOf(users[1]!)) expect(await core.deps.reportStore.exists(key)).toBe(true);
    // The caller is logged by owner ref and client; the scope lists owner refs, never usernames.
    expect(core.logger.lines.some((l) => l.event === 'reports.invalidated' && typeof l.actor === 'string' && l.actorClient === 'reports-jobs' && (l.scope as string[])?.[0] === users[0])).toBe(true);
  });

  test("an administrator names a person by username; core drops that person's owner-ref objects", async () => {
    const username = `inv.person.${stamp}`;
    const ref = await core.deps.owners.refOf(username);
    for (const key of keysOf(ref)) await core.deps.reportStore.write(key, '{}');
    const { status, body } = await invalidate({ usernames: [username] }, await admin.accessToken());
    expect(status).toBe(200);
    expect(body.scope).toEqual([ref]);
    expect(body.deleted_keys.sort()).toEqual(keysOf(ref).sort());
    expect(JSON.stringify(core.logger.lines)).not.toContain(username);
  });

  test('an administrator may invalidate too; unknown users delete nothing', async () => {
    const { status, body } = await invalidate({ user_ids: [randomRef()] }, await admin.accessToken());
    expect(status).toBe(200);
    expect(body.deleted_objects).toBe(0);
  });

  test('{all:true} empties the bucket (a scratch bucket, not the shared one)', async () => {
    const bucket = `inv-${stamp}`;
    const s3 = createS3Client({ endpoint: core.env.S3_ENDPOINT!, region: core.env.S3_REGION!, accessKeyId: core.env.S3_ACCESS_KEY_ID!, secretAccessKey: core.env.S3_SECRET_ACCESS_KEY!, timeoutMs: 5000 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const scratch = createCoreHarness({ S3_BUCKET: bucket, CDN_URL: `http://127.0.0.1:${recorder.port}` });
    try {
      await seedObjects(scratch.deps.reportStore);
      purges.length = 0;
      const { status, body } = await invalidate({ all: true }, serviceToken, scratch);
      expect(status).toBe(200);
      expect(body).toMatchObject({ scope: 'all', deleted_objects: 6, purge: { ok: true } });
      expect(JSON.parse(purges[0]!.body)).toEqual({ all: true });
      expect(await scratch.deps.reportStore.deletePrefix('')).toEqual([]);
    } finally {
      await scratch.close();
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      s3.destroy();
    }
  });
});

describe('invalidate.error', () => {
  test('an unreachable edge does not fail the invalidation: the purge outcome is reported', async () => {
    const noEdge = createCoreHarness({ CDN_URL: 'http://127.0.0.1:1' });
    try {
      await seedObjects(noEdge.deps.reportStore);
      const { status, body } = await invalidate({ user_ids: [users[1]] }, serviceToken, noEdge);
      expect(status).toBe(200);
      expect(body.deleted_objects).toBe(3);
      expect(body.purge.attempted).toBe(true);
      expect(body.purge.ok).toBe(false);
      expect(typeof body.purge.error).toBe('string');
    } finally {
      await noEdge.close();
    }
  });

  test('bad bodies are 422; no token is 401', async () => {
    // A username is refused too: owners are named by their owner refs only.
    for (const bad of [{}, { user_ids: [] }, { all: false }, { user_ids: ['../x'] }, { user_ids: ['ivan.petrov'] }, { user_ids: [users[0]!.toUpperCase()] }, { user_ids: [users[0]], all: true }, { user_ids: 'a' }]) {
      expect({ bad, status: (await invalidate(bad, serviceToken)).status }).toEqual({ bad, status: 422 });
    }
    expect((await core.request('/api/reports/invalidate', { method: 'POST', body: '{"all":true}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
  });
});
