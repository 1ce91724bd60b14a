import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ClickHouseClient } from '@clickhouse/client';
import { logLevel, type Kafka } from 'kafkajs';
import { chIdentifier, chLiteral, chSql } from '../../../db/clickhouse/sql.ts';
import { createKafkaClient } from '../../../jobs/cdc/kafka-client.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { kafkaClientSettings } from '../../../stack/services/kafka.ts';
import type { AdminClient } from '../../../stack/services/keycloak.ts';
import { addCounts, countAll, KINDS, zeroCounts, type CompiledPerson, type KindCounts, type PersonNeedles } from './matcher.ts';

/** One row of the report: what was read (so a zero cannot come from reading nothing) and what was found. */
export interface StoreScan {
  store: string;
  unit: string;
  scanned: number;
  counts: KindCounts;
  /** Where the hits are (table, topic, key prefix, file): for the report, never the values themselves. */
  where: string[];
}

function scanResult(store: string, unit: string): StoreScan {
  return { store, unit, scanned: 0, counts: zeroCounts(), where: [] };
}

// ---------------------------------------------------------------------------------------------
// ClickHouse: every row of every table, all text columns joined, searched by the server

const TEXT_TYPE = /String/;
const SKIPPED_ENGINES = new Set(['View', 'MaterializedView', 'Kafka', 'Dictionary', 'Null', 'Merge', 'Distributed']);

function textOf(name: string, type: string): string {
  const column = chIdentifier(name).text;
  if (type.startsWith('Array(')) return `arrayStringConcat(arrayMap(x -> ifNull(toString(x), ''), ${column}), '\\n')`;
  return `ifNull(toString(${column}), '')`;
}

/** Per row (not per occurrence): a row counts once per kind whatever the number of columns hit. */
function kindConditions(person: PersonNeedles): Record<(typeof KINDS)[number], string> {
  const any = (values: readonly string[]) => values.map((v) => `position(t, ${chLiteral(v).text}) > 0`).join(' OR ') || '0';
  let withoutEmails = 't';
  for (const email of person.values.email.filter((e) => e.includes(person.uid))) withoutEmails = `replaceAll(${withoutEmails}, ${chLiteral(email).text}, '')`;
  // Given name and surname in one row, whichever columns hold them.
  const parts = (person.nameParts ?? []).map(([given, surname]) => `(position(t, ${chLiteral(given).text}) > 0 AND position(t, ${chLiteral(surname).text}) > 0)`);
  return {
    name: [any(person.values.name), ...parts].join(' OR '),
    email: any(person.values.email),
    phone: any(person.values.phone),
    username: `position(${withoutEmails}, ${chLiteral(person.uid).text}) > 0`,
  };
}

export async function scanClickHouse(client: ClickHouseClient, databases: readonly string[], people: readonly PersonNeedles[]): Promise<StoreScan> {
  const result = scanResult(`ClickHouse (${databases.join(', ')})`, 'rows');
  for (const database of databases) {
    const tables = await (
      await client.query({ query: chSql`SELECT name, engine FROM system.tables WHERE database = ${database} ORDER BY name`.text, format: 'JSONEachRow' })
    ).json<{ name: string; engine: string }>();
    for (const table of tables.filter((t) => !SKIPPED_ENGINES.has(t.engine))) {
      const columns = await (
        await client.query({ query: chSql`SELECT name, type FROM system.columns WHERE database = ${database} AND table = ${table.name} ORDER BY name`.text, format: 'JSONEachRow' })
      ).json<{ name: string; type: string }>();
      const texts = columns.filter((c) => TEXT_TYPE.test(c.type)).map((c) => textOf(c.name, c.type));
      const from = `${chIdentifier(database).text}.${chIdentifier(table.name).text}`;
      if (texts.length === 0) {
        const [row] = await (await client.query({ query: `SELECT count() AS n FROM ${from}`, format: 'JSONEachRow' })).json<{ n: string }>();
        result.scanned += Number(row!.n);
        continue;
      }
      const counters = people.flatMap((person, p) => Object.entries(kindConditions(person)).map(([kind, condition]) => `countIf(${condition}) AS k${p}_${kind}`));
      const row = texts.length === 1 ? texts[0] : `concat(${texts.join(", '\\n', ")})`;
      const query = `SELECT count() AS n, ${counters.join(', ')} FROM (SELECT ${row} AS t FROM ${from})`;
      const [answer] = await (await client.query({ query, format: 'JSONEachRow' })).json<Record<string, string>>();
      result.scanned += Number(answer!.n);
      const counts = zeroCounts();
      people.forEach((_, p) => {
        for (const kind of KINDS) counts[kind] += Number(answer![`k${p}_${kind}`]);
      });
      addCounts(result.counts, counts);
      if (KINDS.some((k) => counts[k] > 0)) result.where.push(`${database}.${table.name} ${JSON.stringify(counts)}`);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Kafka: every message of the given topics from the first offset, key, value and headers as bytes

/** The stack's admin principal (SCRAM), through the one place Kafka client settings are made. */
export function createScanKafka(env: StackEnv): Kafka {
  return createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'pii-scan', logLevel: logLevel.NOTHING });
}

export async function scanKafka(kafka: Kafka, topicFilter: (topic: string) => boolean, people: readonly CompiledPerson[]): Promise<StoreScan & { topics: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, Map<number, bigint>>();
  let topics: string[];
  try {
    topics = (await admin.listTopics()).filter(topicFilter).sort();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      ends.set(topic, new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)])));
    }
  } finally {
    await admin.disconnect();
  }
  const result = { ...scanResult(`Kafka (${topics.join(', ')})`, 'messages'), topics };
  const hitsByTopic = new Map<string, KindCounts>();
  const pending = new Set([...ends].flatMap(([topic, partitions]) => [...partitions.keys()].map((p) => `${topic}/${p}`)));
  if (pending.size === 0) return result;

  const groupId = `pii-scan-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.topic)?.get(batch.partition);
          for (const message of batch.messages) {
            // Only what was there when the scan began: the topic may grow while it runs.
            if (end !== undefined && BigInt(message.offset) >= end) continue;
            result.scanned++;
            const parts = [message.key, message.value, ...Object.entries(message.headers ?? {}).flatMap(([name, v]) => [Buffer.from(name), ...[v].flat()])];
            const bytes = Buffer.concat(parts.filter((p) => p !== null && p !== undefined).map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(String(p)))));
            const { counts } = countAll(bytes, people);
            addCounts(result.counts, counts);
            addCounts(hitsByTopic.get(batch.topic) ?? hitsByTopic.set(batch.topic, zeroCounts()).get(batch.topic)!, counts);
          }
          if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) pending.delete(`${batch.topic}/${batch.partition}`);
          if (pending.size === 0) resolve();
        },
      });
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`topic scan not finished after 120 s; still reading ${[...pending].join(', ')}`)), 120_000).unref(),
    );
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
    const cleaner = kafka.admin();
    await cleaner.connect();
    await cleaner.deleteGroups([groupId]).catch(() => {});
    await cleaner.disconnect();
  }
  for (const [topic, counts] of hitsByTopic) if (KINDS.some((k) => counts[k] > 0)) result.where.push(`${topic} ${JSON.stringify(counts)}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// S3: every key and every body of the bucket, decompressed when stored compressed

function decoded(body: Buffer, contentEncoding: string | undefined): Buffer {
  const encoding = contentEncoding?.toLowerCase();
  if (encoding === 'gzip' || (body[0] === 0x1f && body[1] === 0x8b)) return gunzipSync(body);
  if (encoding === 'br') return brotliDecompressSync(body);
  return body;
}

export async function scanS3(s3: S3Client, bucket: string, people: readonly CompiledPerson[]): Promise<StoreScan> {
  const result = scanResult(`S3 bucket ${bucket} (keys and bodies)`, 'objects');
  const hitsByPrefix = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const key = object.Key!;
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: { name?: string }) => {
        // Deleted between the listing and the read (a test's clean-up, an invalidation).
        if (error.name === 'NoSuchKey') return undefined;
        throw error;
      });
      if (!response) continue;
      result.scanned++;
      const body = Buffer.from(await response.Body!.transformToByteArray());
      const bytes = Buffer.concat([Buffer.from(key), Buffer.from('\n'), decoded(body, response.ContentEncoding), Buffer.from(JSON.stringify(response.Metadata ?? {}))]);
      const { counts } = countAll(bytes, people);
      addCounts(result.counts, counts);
      const hits = KINDS.reduce((sum, k) => sum + counts[k], 0);
      if (hits > 0) {
        const prefix = key.split('/').slice(0, 2).join('/');
        hitsByPrefix.set(prefix, (hitsByPrefix.get(prefix) ?? 0) + hits);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  result.where = [...hitsByPrefix].map(([prefix, n]) => `${prefix}/… ${n}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Keycloak: the admin REST view of stored users, and the H2 database's bytes

/**
 * A federated (not imported) user's id is `f:<component id>:<external id>`: nothing of it is stored
 * in Keycloak's user tables, its attributes come from LDAP on each lookup. Any other id is a row of
 * Keycloak's own (USER_ENTITY), and a demo person's value in it is a central copy.
 */
export function isStoredUser(id: string): boolean {
  return !id.startsWith('f:');
}

interface UserRep {
  id: string;
  username?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  attributes?: Record<string, string[]>;
}

export async function scanKeycloakUsers(admin: AdminClient, people: readonly PersonNeedles[], compiled: readonly CompiledPerson[]): Promise<StoreScan & { federatedLookups: number }> {
  const result = { ...scanResult('Keycloak users (admin REST; stored records only count)', 'user records'), federatedLookups: 0 };
  const seen = new Map<string, UserRep>();
  for (const person of people) {
    const [byName] = await admin.get<UserRep[]>(`/users?username=${encodeURIComponent(person.uid)}&exact=true`);
    // Found through the federation: the lookup reached the directory (the scan reads something).
    if (byName && !isStoredUser(byName.id) && byName.firstName) result.federatedLookups++;
    for (const value of [...person.values.name, ...person.values.email, person.uid]) {
      for (const user of await admin.get<UserRep[]>(`/users?search=${encodeURIComponent(value)}&max=100`)) seen.set(user.id, user);
    }
  }
  // Every local user too (service accounts, brokered people): a demo person's value may sit in any.
  for (const user of await admin.get<UserRep[]>('/users?max=10000')) seen.set(user.id, user);
  result.scanned = seen.size;
  for (const user of seen.values()) {
    if (!isStoredUser(user.id)) continue;
    const full = await admin.get<UserRep>(`/users/${encodeURIComponent(user.id)}`);
    const { counts } = countAll(Buffer.from(`${JSON.stringify(full)}\n${full.firstName ?? ''} ${full.lastName ?? ''}`), compiled);
    addCounts(result.counts, counts);
    if (KINDS.some((k) => counts[k] > 0)) result.where.push(`user ${user.id} ${JSON.stringify(counts)}`);
  }
  return result;
}

function filesUnder(dir: string, skip: (path: string) => boolean = () => false): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (skip(path)) return [];
    if (entry.isDirectory()) return filesUnder(path, skip);
    return entry.isFile() ? [path] : [];
  });
}

/**
 * The raw bytes of every file of Keycloak's data folder but the realm import: the H2 database
 * (including chunks MVStore no longer uses but has not overwritten: a value deleted from a table can
 * still be read from the disk), its trace file and the transaction logs.
 */
export function scanKeycloakFiles(dataDir: string, people: readonly CompiledPerson[]): StoreScan {
  const result = scanResult(`Keycloak data files (${dataDir}, raw bytes)`, 'bytes');
  for (const file of filesUnder(dataDir, (path) => relative(dataDir, path).startsWith('import'))) {
    const bytes = readFileSync(file);
    result.scanned += bytes.length;
    const { counts } = countAll(bytes, people);
    addCounts(result.counts, counts);
    if (KINDS.some((k) => counts[k] > 0)) result.where.push(`${relative(dataDir, file)} ${JSON.stringify(counts)}`);
  }
  return result;
}

/** H2's SQL literals for text outside ASCII: U&'\0418\0432…' (and \+XXXXXX above the BMP). */
export function decodeH2Unicode(sql: string): string {
  return sql.replace(/U&'((?:[^']|'')*)'/g, (_, body: string) =>
    `'${body.replace(/\\\+([0-9a-fA-F]{6})|\\([0-9a-fA-F]{4})/g, (_m, wide?: string, narrow?: string) => String.fromCodePoint(parseInt((wide ?? narrow)!, 16)))}'`,
  );
}

/**
 * The live rows of Keycloak's H2 database, decoded by H2 itself: org.h2.tools.Recover (the jar
 * Keycloak ships) turns a copy of the file into SQL without the database credentials, reading
 * compressed pages too, so a value cannot hide behind the page format.
 */
export async function scanKeycloakRows(
  databaseFile: string,
  java: string,
  h2Jar: string,
  people: readonly CompiledPerson[],
): Promise<StoreScan & { tables: Map<string, KindCounts> }> {
  const result = { ...scanResult('Keycloak H2 rows (h2 Recover)', 'rows'), tables: new Map<string, KindCounts>() };
  const work = mkdtempSync(join(tmpdir(), 'pii-scan-h2-'));
  let sql: string;
  try {
    copyFileSync(databaseFile, join(work, 'keycloakdb.mv.db'));
    await promisify(execFile)(java, ['-cp', h2Jar, 'org.h2.tools.Recover', '-dir', work, '-db', 'keycloakdb'], { timeout: 120_000 });
    const sqlFile = join(work, 'keycloakdb.h2.sql');
    if (!existsSync(sqlFile) || statSync(sqlFile).size === 0) throw new Error(`h2 Recover wrote no SQL for ${databaseFile}`);
    sql = decodeH2Unicode(readFileSync(sqlFile, 'utf8'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Recover loads each table's rows into a map-named scratch table (O_68) and copies them over at the end.
  const tableOf = new Map([...sql.matchAll(/^INSERT INTO "PUBLIC"\."([^"]+)" SELECT \* FROM (O_\d+);$/gm)].map((m) => [m[2]!, m[1]!]));
  for (const line of sql.split('\n')) {
    const map = /^INSERT INTO (O_\d+) VALUES/.exec(line)?.[1];
    if (!map) continue;
    result.scanned++;
    const { counts } = countAll(Buffer.from(line), people);
    addCounts(result.counts, counts);
    const table = tableOf.get(map) ?? map;
    if (KINDS.some((k) => counts[k] > 0)) addCounts(result.tables.get(table) ?? result.tables.set(table, zeroCounts()).get(table)!, counts);
  }
  result.where = [...result.tables].map(([table, counts]) => `${table} ${JSON.stringify(counts)}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Log files

export function scanLogFiles(store: string, files: readonly string[], people: readonly CompiledPerson[]): StoreScan {
  const result = scanResult(store, 'log bytes');
  for (const file of files) {
    const bytes = readFileSync(file);
    result.scanned += bytes.length;
    const { counts } = countAll(bytes, people);
    addCounts(result.counts, counts);
    if (KINDS.some((k) => counts[k] > 0)) result.where.push(`${file} ${JSON.stringify(counts)}`);
  }
  return result;
}

export function logFilesUnder(dirs: readonly string[], exclude: (path: string) => boolean): string[] {
  return dirs.flatMap((dir) => filesUnder(dir)).filter((path) => /\.log(\.\d+)?$/.test(path) && !exclude(path));
}
