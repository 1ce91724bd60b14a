import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { ClickHouseClient } from '@clickhouse/client';
import { reconnectBackoffSeconds } from '../../common/postgres-backoff.ts';
import { createReportOwners } from '../../core/reports/owners.ts';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import { addDirectoryPerson, type DirectoryPerson } from '../helpers/directory-person.ts';
import { loginThroughBff, TestBrowser } from '../helpers/keycloak-login.ts';

/**
 * The suite's own data, made at start and removed at the end: directory people (prosthesis owners)
 * with a CRM customer each, and prostheses whose chips send the telemetry. Everything carries a
 * run tag so leftovers of a crashed run are recognisable (chips `CHAOS-<tag>-<n>`).
 */

export interface Owner {
  person: DirectoryPerson;
  customerId: string;
  chips: string[];
}

export interface Fixture {
  tag: string;
  owners: Owner[];
  chips: string[];
  crm: postgres.Sql;
  telemetry: postgres.Sql;
  clickhouse: ClickHouseClient;
  modelId: string;
  /** When the prostheses (and their first assignment, valid from its insert) existed: no event is older. */
  readyAtMs: number;
  cleanup(): Promise<void>;
}

export async function createFixture(env: StackEnv, options: { owners: number; chipsPerOwner: number }): Promise<Fixture> {
  const tag = randomUUID().slice(0, 8);
  // Reconnect on their own after a database restart; a small pool is all the load needs.
  const crm = postgres(env.CRM_DATABASE_URL!, { max: 4, onnotice: () => undefined, connect_timeout: 5, idle_timeout: 20, backoff: reconnectBackoffSeconds });
  const telemetry = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => undefined, connect_timeout: 5, idle_timeout: 20, backoff: reconnectBackoffSeconds });
  const clickhouse = createClickHouseClient(clickHouseConfigFromEnv(env));
  const owners: Owner[] = [];
  // Its own model, so the suite needs no demo data (npm test runs on a stack without it).
  const [model] = await crm<{ id: string }[]>`
    insert into crm.prosthesis_models (name, manufacturer, kind, actuator_count, battery_capacity_mah, weight_g)
    values (${`Chaos model ${tag}`}, 'chaos-suite', 'hand', 6, 2000, 500) returning id`;
  const fixture: Fixture = {
    tag,
    owners,
    chips: [],
    crm,
    telemetry,
    clickhouse,
    modelId: model!.id,
    readyAtMs: 0,
    async cleanup() {
      const problems: string[] = [];
      const attempt = async (what: string, step: () => Promise<unknown>) => {
        try {
          await step();
        } catch (error) {
          problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      };
      const customerIds = owners.map((o) => o.customerId);
      if (customerIds.length > 0) {
        await attempt('CRM rows', () =>
          crm.begin(async (tx) => {
            await tx`delete from crm.orders where customer_id in ${tx(customerIds)}`;
            await tx`delete from crm.prostheses where customer_id in ${tx(customerIds)}`;
            await tx`delete from crm.prosthesis_assignments where customer_id in ${tx(customerIds)}`;
            await tx`delete from crm.customers where id in ${tx(customerIds)}`;
          }),
        );
      }
      await attempt('CRM model', () => crm`delete from crm.prosthesis_models where id = ${model!.id}`);
      if (fixture.chips.length > 0) {
        await attempt('raw telemetry', () => telemetry`delete from public.raw_telemetry where chip_id in ${telemetry(fixture.chips)}`);
        await attempt('mart rows', () =>
          clickhouse.command({ query: `ALTER TABLE report_hourly DELETE WHERE chip_id IN (${fixture.chips.map((c) => `'${c}'`).join(', ')})` }),
        );
      }
      for (const owner of owners) await attempt(`person ${owner.person.uid}`, () => owner.person.remove());
      await crm.end({ timeout: 5 }).catch(() => undefined);
      await telemetry.end({ timeout: 5 }).catch(() => undefined);
      await clickhouse.close().catch(() => undefined);
      if (problems.length > 0) console.error(`chaos: cleanup left something behind:\n  ${problems.join('\n  ')}`);
    },
  };
  const owners_ = createReportOwners(env.OWNER_REF_KEY!);
  try {
    for (let i = 0; i < options.owners; i++) {
      const person = await addDirectoryPerson(env, { uidPrefix: 'chaos', roles: ['prothetic_user'] });
      // The owner ref as core's CRM API writes it (core/reports/owners.ts): the mart's user key.
      const ownerRef = await owners_.refOf(person.uid);
      const [customer] = await crm<{ id: string }[]>`
        insert into crm.customers (username, region, full_name, email, owner_ref)
        values (${person.uid}, 'ru', ${`Chaos Owner ${i}`}, ${`${person.uid}@ru.bionicpro.example`}, ${ownerRef}) returning id`;
      const chips = Array.from({ length: options.chipsPerOwner }, (_, n) => `CHAOS-${tag}-${i}-${n}`);
      owners.push({ person, customerId: customer!.id, chips });
      fixture.chips.push(...chips);
      for (const chip of chips) {
        await crm`
          insert into crm.prostheses (chip_id, customer_id, model_id, serial_number, fitted_at)
          values (${chip}, ${customer!.id}, ${model!.id}, ${`SN-${chip}`}, now() - interval '30 days')`;
      }
    }
  } catch (error) {
    await fixture.cleanup();
    throw error;
  }
  fixture.readyAtMs = Date.now() + 1_000;
  return fixture;
}

/** Waits until the CDC consumer has brought every prosthesis of the fixture into ClickHouse (the ETL skips unknown chips). */
export async function waitForProsthesesReplicated(fixture: Fixture, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  const list = fixture.chips.map((c) => `'${c}'`).join(', ');
  for (;;) {
    try {
      const result = await fixture.clickhouse.query({ query: `SELECT count() AS n FROM crm_prostheses FINAL WHERE _deleted = 0 AND chip_id IN (${list})`, format: 'JSONEachRow' });
      const [row] = (await result.json()) as Array<{ n: string | number }>;
      if (Number(row?.n ?? 0) === fixture.chips.length) return Date.now() - started;
    } catch {
      /* ClickHouse may be the one restarting */
    }
    if (Date.now() - started > timeoutMs) throw new Error(`chaos: the fixture's ${fixture.chips.length} prostheses did not reach ClickHouse within ${timeoutMs / 1000} s (is the jobs CDC consumer running?)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface Session {
  uid: string;
  browser: TestBrowser;
  bffOrigin: string;
}

/**
 * Signs each owner in through the BFF child and Keycloak (password + TOTP). Keycloak redirects only to
 * BFF_PUBLIC_URL, so the browser sends that origin to the BFF's real port.
 */
export async function signIn(env: StackEnv, fixture: Fixture, bffUrl: string, clientTimeoutMs: number): Promise<Session[]> {
  const bffOrigin = new URL(env.BFF_PUBLIC_URL!).origin;
  const forward = (request: Request) => {
    const url = new URL(request.url);
    return fetch(`${bffUrl}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(clientTimeoutMs),
      // @ts-expect-error Node's fetch needs this to send a streamed body; Bun ignores it.
      duplex: 'half',
    });
  };
  const sessions: Session[] = [];
  for (const owner of fixture.owners) {
    // The TOTP helper's cross-process lock is shared with every other test signing in on this
    // machine and held through a code's wait: a busy minute is not this suite's failure, so try again.
    for (let attempt = 1; ; attempt++) {
      const browser = new TestBrowser({ [bffOrigin]: forward });
      try {
        await loginThroughBff({ bffUrl: bffOrigin, username: owner.person.uid, password: owner.person.password, env, browser });
        sessions.push({ uid: owner.person.uid, browser, bffOrigin });
        break;
      } catch (error) {
        if (attempt >= 3 || !(error instanceof Error && error.message.includes('stayed locked'))) throw error;
      }
    }
  }
  return sessions;
}
