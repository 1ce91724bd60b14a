import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';
import { freePort } from '../helpers/free-port.ts';
import { createCoreHarness, createMartSeeder, type CoreHarness } from './support/harness.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from './support/keycloak-people.ts';

/**
 * Core with the real CDN edge (edge/runtime/node.ts --app=cdn, started here on a free port):
 * the signed URL core hands out is served by the edge from S3, a bent URL is refused, and core's
 * invalidation purges the edge so the old object is gone.
 */
let core: CoreHarness;
let edge: ChildProcess;
let edgeOutput = '';
let person: TestPerson;
/** The person's report owner ref: the mart's and S3's owner key (core/reports/owners.ts). */
let ownerRef: string;
let seeder: ReturnType<typeof createMartSeeder>;

beforeAll(async () => {
  const port = await freePort();
  const cdnUrl = `http://127.0.0.1:${port}`;
  core = createCoreHarness({ CDN_URL: cdnUrl });
  edge = spawn(join(ROOT, 'node_modules', '.bin', 'node'), ['edge/runtime/node.ts', '--app=cdn'], {
    cwd: ROOT,
    env: { ...process.env, ...core.env, CDN_PORT: String(port), CDN_URL: cdnUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  edge.stdout!.on('data', (chunk) => (edgeOutput += chunk));
  edge.stderr!.on('data', (chunk) => (edgeOutput += chunk));
  seeder = createMartSeeder(core.env);
  person = await createTestPerson(core.env, ['prothetic_user'], 'cdn');
  ownerRef = await core.deps.owners.refOf(person.uid);
  await seeder.insert([{ user_id: ownerRef, hour: '2026-11-17 12:00:00', movements: 33, successful_movements: 30 }]);
  for (let i = 0; i < 100; i++) {
    if (edge.exitCode !== null) throw new Error(`CDN edge exited:\n${edgeOutput}`);
    if (await fetch(`${cdnUrl}/health/live`).then((r) => r.ok, () => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`CDN edge did not start:\n${edgeOutput}`);
}, 120_000);

afterAll(async () => {
  edge?.kill('SIGTERM');
  if (person) await core.deps.reportStore.deletePrefix(`${ownerRef}/`).catch(() => undefined);
  await seeder?.cleanup();
  await person?.remove().catch((error) => console.warn('cleanup', error));
  await core?.close();
});

describe('core + CDN edge', () => {
  test('the signed URL is served by the edge; a bent one is refused; invalidation purges the edge', async () => {
    const token = await person.accessToken();
    const signed = (await (await core.request('/api/reports/cdn/2026-11-17', { token })).json()) as { url: string; key: string };
    const first = await fetch(signed.url);
    expect(first.status).toBe(200);
    const document = (await first.json()) as { user_id: string; totals: { movements: number }; hours: unknown[] };
    expect(document).toMatchObject({ user_id: ownerRef, totals: { movements: 33 } });
    expect(document.hours).toHaveLength(24);
    expect((await fetch(signed.url)).headers.get('x-cache-status')).toBeTruthy();

    const bent = new URL(signed.url);
    bent.searchParams.set('exp', String(Number(bent.searchParams.get('exp')) + 3600));
    expect((await fetch(bent)).status).toBe(403);

    const invalidated = (await (
      await core.request('/api/reports/invalidate', {
        method: 'POST',
        token: await serviceAccountToken(core.env),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_ids: [ownerRef] }),
      })
    ).json()) as { deleted_objects: number; purge: { ok: boolean; status: number } };
    expect(invalidated.deleted_objects).toBe(1);
    expect(invalidated.purge).toMatchObject({ ok: true, status: 200 });
    // Purged at the edge and gone from S3: the same URL no longer yields the old document.
    expect((await fetch(signed.url)).status).toBe(404);
  });
});
