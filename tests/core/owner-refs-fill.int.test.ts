import { afterAll, describe, expect, test } from 'bun:test';
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';
import { fillOwnerRefs } from '../../db/crm/owner-ref-fill.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { removeTestCrmRows } from './support/crm-rows.ts';

// Core's start-time fill (and the demo generator's, the same function) on the stack's CRM: usernames
// that differ only in case map to one ref, so the second such customer violates owner_ref's unique
// constraint. That row is counted by id and left NULL; customers after it still get their refs.
const env = loadStackEnv();
const crm = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => {} });
const created: string[] = [];

afterAll(async () => {
  await removeTestCrmRows(crm, created, undefined).catch(() => {});
  await crm.end({ timeout: 5 });
});

/** A customer without an owner ref, as before CRM migration 003; `low` ids sort before any random one. */
async function customer(username: string, low = false): Promise<string> {
  const id = low ? `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}` : randomUUID();
  await crm`insert into crm.customers (id, username, region, full_name, email) values (${id}, ${username}, 'eu', 'Fill Test', ${`${username}@example.test`})`;
  created.push(id);
  return id;
}

describe('filling missing owner refs', () => {
  test('a case-only duplicate is counted by id and skipped; every later customer is filled, a batch at a time', async () => {
    const owners = await createOwnerRefs(env.OWNER_REF_KEY!);
    const tag = randomUUID().slice(0, 8);
    const first = await customer(`fill-${tag}`, true);
    const twin = await customer(`Fill-${tag}`, true);
    const later = await customer(`fill-${tag}-later`);

    const fill = await fillOwnerRefs(crm, (username) => owners.of(username), 1);

    const rows = await crm<{ id: string; owner_ref: string | null }[]>`select id::text, owner_ref from crm.customers where id in ${crm(created)}`;
    const refs = new Map(rows.map((r) => [r.id, r.owner_ref]));
    const expected = await owners.of(`fill-${tag}`);
    // One of the twins holds the shared ref (the lower id: filled first), the other none.
    const [winner, loser] = first < twin ? [first, twin] : [twin, first];
    expect(refs.get(winner)).toBe(expected);
    expect(refs.get(loser)).toBeNull();
    expect(refs.get(later)).toBe(await owners.of(`fill-${tag}-later`));
    expect(fill.conflicts).toBeGreaterThanOrEqual(1);
    expect(fill.conflictIds).toContain(loser);
    expect(fill.filled).toBeGreaterThanOrEqual(2);
    // Ids only: nothing in the result names a username.
    expect(JSON.stringify(fill)).not.toContain(tag);

    // A second pass finds only the conflict again, and changes nothing.
    const again = await fillOwnerRefs(crm, (username) => owners.of(username));
    expect(again.conflictIds).toContain(loser);
    expect((await crm`select 1 from crm.customers where id = ${loser} and owner_ref is null`).length).toBe(1);
  }, 60_000);
});
