import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka } from 'kafkajs';
import postgres from 'postgres';
import { createS3Client } from '../../common/s3/client.ts';
import { clickHouseConfigFromEnv, createClickHouseClient, defaultTransport } from '../../db/clickhouse/client.ts';
import { chSql, chTuple, chUuid } from '../../db/clickhouse/sql.ts';
import { buildCrmDataset } from '../../demo/crm-data.ts';
import { PEOPLE } from '../../demo/people.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { connectAdmin, KEYCLOAK_DATA_DIR, keycloakH2Tools, type AdminClient } from '../../stack/services/keycloak.ts';
import { paths, ROOT } from '../../tools/kit/paths.ts';
import { createCdcHarness, eventually } from '../jobs/support/cdc-harness.ts';
import { createScratchClickHouse, type ScratchClickHouse } from '../jobs/support/scratch-stores.ts';
import { compilePerson, KINDS, totalOf, type PersonNeedles } from './pii-scan/matcher.ts';
import { readDemoNeedles } from './pii-scan/people.ts';
import {
  createScanKafka,
  logFilesUnder,
  scanClickHouse,
  scanKafka,
  scanKeycloakFiles,
  scanKeycloakRows,
  scanKeycloakUsers,
  scanLogFiles,
  scanS3,
  type StoreScan,
} from './pii-scan/stores.ts';

// Issue 11, "Personal data stays in its region": after the demo people's CRM rows and a few CRM edits
// have gone the real way (CRM PostgreSQL → Debezium with the committed crm-connector config → Kafka →
// the real CDC consumer → a scratch ClickHouse database built by the real migrations), every store
// outside the regional directories and the CRM is searched for each demo person's name, e-mail, phone
// and username: every table of the ClickHouse databases, every crm.* topic and the DLQ from offset 0,
// every key and body of the S3 bucket, Keycloak's users (admin REST) and its H2 database (raw bytes and
// decoded rows), and the services' log files. The first test plants values in each kind of store and
// shows the same scanners find them, so a zero below is not the zero of a blind scanner.
const env = loadStackEnv();
const crm = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => {} });
const bucket = env.S3_BUCKET ?? 'reports';
const dlqTopic = env.CDC_DLQ_TOPIC ?? 'crm.dlq';
let scratch: ScratchClickHouse;
let clickhouse: ClickHouseClient;
let harness: ReturnType<typeof createCdcHarness>;
let kafka: Kafka;
let admin: AdminClient;
const s3 = createS3Client({ endpoint: env.S3_ENDPOINT!, region: env.S3_REGION!, accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY!, timeoutMs: 10_000 });
const cleanups: Array<() => Promise<unknown>> = [];

const tag = randomUUID().replaceAll('-', '').slice(0, 10);
const digits = (seed: string, n: number) => seed.replace(/\D/g, '7').padEnd(n, '3').slice(0, n);

beforeAll(async () => {
  const status = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/status`);
  if (!status.ok) throw new Error(`crm-connector is not registered (${status.status}); run node stack/cli.ts up kafka-connect`);
  scratch = await createScratchClickHouse(env, 'pii_scan');
  clickhouse = createClickHouseClient(clickHouseConfigFromEnv(env, { database: 'default' }), defaultTransport());
  harness = createCdcHarness(env, scratch);
  await harness.startAtEnd();
  kafka = createScanKafka(env);
  admin = await connectAdmin(env);
}, 120_000);

afterAll(async () => {
  await harness?.close();
  // The chaos suite may be restarting a service right now: retry each clean-up for a while.
  for (const cleanup of cleanups.reverse()) {
    for (let attempt = 1; ; attempt++) {
      try {
        await cleanup();
        break;
      } catch (error) {
        if (attempt === 8) {
          console.warn('pii-scan clean-up failed:', error);
          break;
        }
        await new Promise((r) => setTimeout(r, 5_000));
      }
    }
  }
  await crm.end();
  await clickhouse?.close();
  await scratch?.drop();
}, 400_000);

/**
 * The chaos suite (tests/chaos) kills and restarts stack services for a few seconds at a time: a
 * store that refuses connections is asked again for up to a minute, rather than failing the scan.
 */
async function retryWhileRestarting<T>(what: string, work: () => Promise<T>): Promise<T> {
  const transient = /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|starting up|not yet accepting|Connection error|KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|This server does not host|closed/i;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const text = `${(error as { name?: string }).name ?? ''} ${(error as { code?: string }).code ?? ''} ${String(error)}`;
      if (attempt >= 7 || !transient.test(text)) throw error;
      console.warn(`pii-scan: ${what} failed (${text.trim().slice(0, 120)}); retrying in 10 s`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  }
}

function printReport(title: string, scans: readonly StoreScan[]): void {
  const rows = scans.map((s) => [s.store, `${s.scanned} ${s.unit}`, ...KINDS.map((k) => String(s.counts[k])), String(totalOf(s.counts))]);
  const header = ['store', 'read', ...KINDS, 'total'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  console.log(`\npii-scan: ${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-+-')}\n${rows.map(line).join('\n')}`);
  for (const scan of scans) for (const where of scan.where) console.log(`pii-scan:   ${scan.store}: ${where}`);
}

/** Keycloak's tables for what authentication needs of a federated person, keyed by f:<federation>:<username>. */
const KEYCLOAK_AUTH_TABLES = new Set([
  'FEDERATED_USER',
  'FED_USER_CREDENTIAL',
  'FED_USER_REQUIRED_ACTION',
  'FED_USER_ROLE_MAPPING',
  'FED_USER_GROUP_MEMBERSHIP',
  'FED_USER_CONSENT',
  'FED_USER_CONSENT_CL_SCOPE',
  'USER_SESSION',
  'USER_SESSION_NOTE',
  'OFFLINE_USER_SESSION',
  'OFFLINE_CLIENT_SESSION',
  'EVENT_ENTITY',
  'LOGIN_FAILURE',
  'BROKER_LINK',
]);

/** A person who exists nowhere but in this test: planting their values must make each scanner count them. */
const canary: PersonNeedles = {
  uid: `pii-canary.${tag}`,
  values: {
    // Cyrillic on purpose: H2 stores it in its own encoding (see matcher.ts h2StringBytes).
    name: [`Канарейка Проверкина${tag}`],
    email: [`pii-canary.${tag}@canary.example`],
    phone: [`+7 999 ${digits(tag, 3)}-${digits(tag.slice(3), 2)}-${digits(tag.slice(5), 2)}`],
    username: [`pii-canary.${tag}`],
  },
  nameParts: [['Канарейка', `Проверкина${tag}`]],
};

describe('the scanners see what is there', () => {
  test('values planted in ClickHouse, Kafka, S3 and Keycloak (REST, H2 bytes, H2 rows) are counted by kind', async () => {
    const compiled = [compilePerson(canary)];
    const [name] = canary.values.name;
    const [email] = canary.values.email;
    const [phone] = canary.values.phone;
    const uid = canary.uid;

    await scratch.client.command({ query: 'CREATE TABLE pii_canary (note String, tags Array(Nullable(String))) ENGINE = Memory' });
    await scratch.client.insert({ table: 'pii_canary', values: [{ note: `${name} <${email}>`, tags: [phone, uid, null] }, { note: 'nothing', tags: [] }], format: 'JSONEachRow' });
    const clickhouseScan = await scanClickHouse(scratch.client, [scratch.database], [canary]);

    const topic = `pii-scan-canary-${tag}`;
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    cleanups.push(async () => {
      await kafkaAdmin.deleteTopics({ topics: [topic] });
      await kafkaAdmin.disconnect();
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: uid, value: JSON.stringify({ name, email, phone }) }, { value: 'nothing personal' }] });
    await producer.disconnect();
    const kafkaScan = await scanKafka(kafka, (t) => t === topic, compiled);

    const key = `pii-scan-canary/${uid}/summary.json`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify({ owner: name, contact: email }), ContentType: 'application/json' }));
    cleanups.push(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    const s3Scan = await scanS3(s3, bucket, compiled);

    // A local Keycloak user (what an imported directory person used to be): REST sees it at once, the
    // H2 file once MVStore has written its chunk (about a second).
    const created = await admin.send('POST', '/users', { username: uid, firstName: 'Канарейка', lastName: `Проверкина${tag}`, email, enabled: false });
    expect(created.status).toBe(201);
    const [user] = await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(uid)}&exact=true`);
    cleanups.push(() => admin.send('DELETE', `/users/${user!.id}`));
    const restScan = await scanKeycloakUsers(admin, [canary], compiled);
    const filesScan = await eventually('the canary in the H2 file', async () => {
      const scan = scanKeycloakFiles(KEYCLOAK_DATA_DIR, compiled);
      return scan.counts.name > 0 ? scan : undefined;
    }, 30_000, 500);
    const { java, h2Jar } = await keycloakH2Tools(env);
    const rowsScan = await scanKeycloakRows(join(KEYCLOAK_DATA_DIR, 'h2', 'keycloakdb.mv.db'), java, h2Jar, compiled);

    const scans = [clickhouseScan, kafkaScan, s3Scan, restScan, filesScan, rowsScan];
    printReport('planted canary values (each must be found)', scans);
    // One row holds all four kinds (name, e-mail, phone, username apart from the e-mail).
    expect(clickhouseScan.counts).toEqual({ name: 1, email: 1, phone: 1, username: 1 });
    expect(kafkaScan.counts).toEqual({ name: 1, email: 1, phone: 1, username: 1 });
    expect(kafkaScan.scanned).toBe(2);
    expect(s3Scan.counts).toMatchObject({ name: 1, email: 1, username: 1 });
    expect(restScan.counts.email).toBeGreaterThan(0);
    expect(restScan.counts.username).toBeGreaterThan(0);
    expect(filesScan.counts.name).toBeGreaterThan(0);
    expect(rowsScan.counts.name).toBeGreaterThan(0);
    expect(rowsScan.counts.email).toBeGreaterThan(0);
  }, 180_000);
});

describe('personal data stays in its region', () => {
  test('no demo person’s name, e-mail, phone or username in any store outside the directories and the CRM', async () => {
    await harness.start();

    // The demo people's CRM rows (as `demo/generate.ts` writes them, seed 42), added where missing.
    const demo = buildCrmDataset({ seed: 42, customers: PEOPLE.filter((p) => p.roles.includes('prothetic_user')).length, before: new Date() });
    for (const customer of demo.customers) {
      const inserted = await crm<{ id: string }[]>`insert into crm.customers (id, username, region, full_name, email, phone)
        values (${customer.id}, ${customer.username}, ${customer.region}, ${customer.fullName}, ${customer.email}, ${customer.phone})
        on conflict do nothing returning id`;
      if (inserted[0]) cleanups.push(() => crm`delete from crm.customers where id = ${inserted[0]!.id}`);
    }
    // A few CRM edits: two demo people change their phone (and change it back afterwards).
    const edited: Record<string, { phone: string[] }> = {};
    for (const uid of ['ivan.petrov', 'lena.schmidt']) {
      const [before] = await crm<{ phone: string | null }[]>`select phone from crm.customers where username = ${uid}`;
      const phone = uid === 'ivan.petrov' ? `+7 916 ${digits(tag, 3)}-${digits(tag.slice(3), 2)}-${digits(tag.slice(6), 2)}` : `+49 176 ${digits(tag, 7)}`;
      await crm`update crm.customers set phone = ${phone} where username = ${uid}`;
      edited[uid] = { phone: [phone] };
      cleanups.push(() => crm`update crm.customers set phone = ${before?.phone ?? null} where username = ${uid}`);
    }
    // And a customer created and edited (name, e-mail, phone, region) by an operator.
    const testUsername = `pii-scan-${tag}`;
    const [row] = await crm<{ id: string }[]>`insert into crm.customers (username, region, full_name, email, phone)
      values (${testUsername}, 'ru', ${`Zoryana Piiscanova ${tag}`}, ${`z.${tag}@pii-scan.test`}, ${`+7 900 ${digits(tag, 7)}`}) returning id`;
    const customerId = row!.id;
    cleanups.push(() => crm`delete from crm.customers where id = ${customerId}`);
    await crm`update crm.customers set full_name = ${`Zoryana Renamed ${tag}`}, email = ${`zr.${tag}@pii-scan.test`}, phone = ${`+49 151 ${digits(tag.slice(2), 7)}`}, region = 'eu'
      where id = ${customerId}`;
    // The last edit in the replica: every earlier event of the table went through before it.
    await eventually(
      'the edited test customer in the ClickHouse replica',
      async () => {
        const rows = await (
          await scratch.client.query({
            query: chSql`SELECT argMax(region, _version) AS region FROM crm_customers WHERE id IN ${chTuple([chUuid(customerId)])} GROUP BY id`.text,
            format: 'JSONEachRow',
          })
        ).json<{ region: string }>();
        return rows[0]?.region === 'eu' ? rows[0] : undefined;
      },
      90_000,
    );

    const { people, directoryEntries, crmRows } = await retryWhileRestarting('LDAP and CRM', () => readDemoNeedles(env, crm, edited));
    expect(directoryEntries).toBe(PEOPLE.length);
    expect(crmRows).toBeGreaterThanOrEqual(demo.customers.length);
    const testCustomer: PersonNeedles = {
      uid: testUsername,
      values: {
        name: [`Zoryana Piiscanova ${tag}`, `Zoryana Renamed ${tag}`],
        email: [`z.${tag}@pii-scan.test`, `zr.${tag}@pii-scan.test`],
        phone: [`+7 900 ${digits(tag, 7)}`, `+49 151 ${digits(tag.slice(2), 7)}`],
        username: [],
      },
    };
    const everyone = [...people, testCustomer];
    const compiled = everyone.map(compilePerson);

    // Every database but ClickHouse's own `system` and other tests' scratch databases (<prefix>_<12 hex>).
    const listed = await retryWhileRestarting('ClickHouse', async () =>
      (await clickhouse.query({ query: 'SELECT name FROM system.databases ORDER BY name', format: 'JSONEachRow' })).json<{ name: string }>(),
    );
    const databases = listed
      .map((d) => d.name)
      .filter((name) => name !== 'system' && (name === scratch.database || !/_[0-9a-f]{12}$/.test(name)));
    const { java, h2Jar } = await keycloakH2Tools(env);
    const logDirs = [paths.logs, join(ROOT, 'artifacts', 'e2e', 'logs'), join(ROOT, 'artifacts', 'edge-contract'), join(ROOT, 'artifacts', 'chaos', 'logs')];
    // The directories' own logs and the CRM database's log belong to the regional stores themselves.
    const regional = (path: string) => /[/\\](ldap-(ru|eu)|postgres-crm)\.log$/.test(path);
    const keycloakUsers = await retryWhileRestarting('Keycloak REST', async () => scanKeycloakUsers(await connectAdmin(env), people, compiled));
    const keycloakFiles = scanKeycloakFiles(KEYCLOAK_DATA_DIR, compiled);
    const keycloakRows = await scanKeycloakRows(join(KEYCLOAK_DATA_DIR, 'h2', 'keycloakdb.mv.db'), java, h2Jar, compiled);
    const scans = [
      await retryWhileRestarting('ClickHouse', () => scanClickHouse(clickhouse, databases, everyone)),
      await retryWhileRestarting('Kafka', () => scanKafka(kafka, (t) => t.startsWith('crm.') || t === dlqTopic, compiled)),
      await retryWhileRestarting('S3', () => scanS3(s3, bucket, compiled)),
      keycloakUsers,
      keycloakFiles,
      keycloakRows,
      scanLogFiles('service logs (.stack/logs, artifacts/*/logs)', logFilesUnder(logDirs, regional), compiled),
    ];
    printReport(`${people.length} demo people (+ 1 test customer), hits per store and kind`, scans);
    const regionalLogs = scanLogFiles('regional stores’ own logs (LDAP, CRM PostgreSQL; not asserted)', logFilesUnder([paths.logs], (p) => !regional(p)), compiled);
    printReport('for information', [regionalLogs]);

    // Each store was read: rows, messages, objects, user records, bytes.
    for (const scan of scans) expect({ store: scan.store, read: scan.scanned > 0 }).toEqual({ store: scan.store, read: true });
    expect(keycloakUsers.federatedLookups).toBe(PEOPLE.length);

    // Keycloak authenticates by the username, and keys what it keeps of a directory person (TOTP
    // credential, sessions, login events) by `f:<federation>:<username>` (Keycloak 26 uses the LDAP
    // username as the external id of users it does not import). That is the "username alone" the
    // issue allows; it must appear in those authentication tables only. Its H2 file holds the same keys.
    const usernameInKeycloak = [...keycloakRows.tables].filter(([, counts]) => counts.username > 0).map(([table]) => table);
    expect(usernameInKeycloak.filter((table) => !KEYCLOAK_AUTH_TABLES.has(table))).toEqual([]);
    const hits = (scan: StoreScan) => (scan === keycloakRows || scan === keycloakFiles ? { ...scan.counts, username: 0 } : scan.counts);
    expect(Object.fromEntries(scans.map((s) => [s.store, totalOf(hits(s))]))).toEqual(Object.fromEntries(scans.map((s) => [s.store, 0])));
  }, 600_000);
});
