import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import postgres from 'postgres';
import { createKafkaClient } from '../../jobs/cdc/kafka-client.ts';
import type { StackEnv } from '../lib/env.ts';
import { log } from '../../tools/kit/log.ts';
import { copyMavenArtifact, copyMavenClasspath } from '../../tools/kit/maven.ts';
import { paths } from '../../tools/kit/paths.ts';
import { run, runningPid, sleep, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import { ensureJavaAndMaven, jvmArgs, KAFKA_VERSION, kafkaClientSettings, kafkaPassword, kafkaUser, provisionPrincipalsAndAcls, renderTemplate, SLF4J_BINDING } from './kafka.ts';
import type { StackService } from './service.ts';

/** Debezium 3.7.0.Final is built against Kafka 4.3.1 (its parent POM's version.kafka). */
export const DEBEZIUM_VERSION = '3.7.0.Final';
const REST_PORT = 8083;
const POSTGRES_CONNECTOR_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';
const CONNECTOR_NAME = 'crm-connector';
const CONNECTOR_CONFIG_FILE = join(paths.config, 'debezium', `${CONNECTOR_NAME}.json`);
/** The only way a secret may appear in the committed connector config: a config-provider reference. */
const PASSWORD_REFERENCE = '${env:CRM_CDC_DB_PASSWORD}';

const libsDir = join(paths.vendor, `kafka-connect-${KAFKA_VERSION}`, 'libs');
const pluginPath = join(paths.vendor, `debezium-${DEBEZIUM_VERSION}`, 'plugins');
const dataDir = paths.data('kafka-connect');

function connectUrl(env: StackEnv): string {
  const url = env.KAFKA_CONNECT_URL;
  if (!url) throw new Error('KAFKA_CONNECT_URL is not set');
  return url.replace(/\/+$/, '');
}

async function getJson(url: string, timeoutMs = 3_000): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  return response.json();
}

const workerConfigFile = join(dataDir, 'connect-distributed.properties');

/** The worker config for this environment; it holds the connect principal's password (file mode 0600). */
export function renderWorkerConfig(env: StackEnv): string {
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${kafkaUser(env, 'connect')}" password="${kafkaPassword(env, 'connect')}";`;
  return renderTemplate(join(paths.config, 'kafka', 'connect-distributed.properties'), {
    BOOTSTRAP_SERVERS: env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    REST_PORT: String(REST_PORT),
    PLUGIN_PATH: pluginPath,
    JAAS_CONFIG: jaas,
  });
}

/**
 * A worker this stack started with another config (before Kafka required SASL, or with an older
 * password) still answers REST while every Kafka call fails: it is not ready, and start() replaces it.
 */
function runsStaleConfig(env: StackEnv): boolean {
  return runningPid('kafka-connect') !== undefined && existsSync(workerConfigFile) && readFileSync(workerConfigFile, 'utf8') !== renderWorkerConfig(env);
}

/** Ready means the REST API answers with its version and the Debezium PostgreSQL plugin is loaded. */
async function isConnectReady(env: StackEnv): Promise<boolean> {
  if (runsStaleConfig(env)) return false;
  const base = connectUrl(env);
  const root = (await getJson(`${base}/`)) as { version?: string };
  if (typeof root.version !== 'string') return false;
  const plugins = (await getJson(`${base}/connector-plugins`)) as Array<{ class?: string }>;
  return plugins.some((p) => p.class === POSTGRES_CONNECTOR_CLASS);
}

/** The Debezium plugin tarball, unpacked once into its own folder on the worker's plugin.path. */
async function installDebeziumPlugin(): Promise<void> {
  const target = join(pluginPath, 'debezium-connector-postgres');
  if (existsSync(join(target, `debezium-connector-postgres-${DEBEZIUM_VERSION}.jar`))) return;
  const downloads = join(paths.vendor, `debezium-${DEBEZIUM_VERSION}`, 'download');
  const tarball = await copyMavenArtifact('kafka-connect', `io.debezium:debezium-connector-postgres:${DEBEZIUM_VERSION}:tar.gz:plugin`, downloads);
  // Unpack beside the target and rename, so an interrupted unpack never looks installed.
  const staging = join(pluginPath, '.unpacking');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', staging]);
  rmSync(target, { recursive: true, force: true });
  renameSync(join(staging, 'debezium-connector-postgres'), target);
  rmSync(staging, { recursive: true, force: true });
}

interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: Array<{ id: number; state: string; trace?: string }>;
}

/** Reads the committed connector config and refuses one that carries a literal password. */
export function loadConnectorConfig(file = CONNECTOR_CONFIG_FILE): Record<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object of connector settings`);
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`${file}: "${key}" must be a string (Kafka Connect configs are string maps)`);
    config[key] = value;
  }
  if (config['database.password'] !== PASSWORD_REFERENCE) {
    throw new Error(`${file}: "database.password" must be the config-provider reference ${PASSWORD_REFERENCE}, never a literal password`);
  }
  return config;
}

/**
 * The connector is configured with publication.autocreate.mode=disabled: the CRM migration owns the
 * publication. Checking first turns Debezium's task stack trace into a message that says what to do.
 */
async function assertPublicationExists(env: StackEnv, config: Record<string, string>): Promise<void> {
  const url = env.CRM_DATABASE_URL;
  if (!url) throw new Error('CRM_DATABASE_URL is not set');
  const publication = config['publication.name'];
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    const rows = await sql<{ table: string }[]>`
      select schemaname || '.' || tablename as table from pg_publication_tables where pubname = ${publication ?? ''}`;
    const published = new Set(rows.map((r) => r.table));
    const wanted = (config['table.include.list'] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    const missing = wanted.filter((t) => !published.has(t));
    if (rows.length === 0 || missing.length > 0) {
      throw new Error(
        `publication ${publication} in the CRM database ${rows.length === 0 ? 'does not exist or is empty' : `lacks ${missing.join(', ')}`}; ` +
          'the CRM migrations (db/migrations/crm) create it: run `node stack/cli.ts up`, which applies them before provisioning',
      );
    }
  } finally {
    await sql.end();
  }
}

/** The columns a config keeps out of its events (Debezium's column.exclude.list, comma-separated). */
function excludedColumns(config: Record<string, string>): Set<string> {
  return new Set((config['column.exclude.list'] ?? '').split(',').map((c) => c.trim()).filter(Boolean));
}

/** Columns the desired config excludes that the registered one still let through. */
export function newlyExcludedColumns(registered: Record<string, string>, desired: Record<string, string>): string[] {
  const before = excludedColumns(registered);
  return [...excludedColumns(desired)].filter((column) => !before.has(column));
}

/** Tables the desired config streams that the registered one did not (table.include.list). */
export function newlyIncludedTables(registered: Record<string, string>, desired: Record<string, string>): string[] {
  const list = (config: Record<string, string>) => (config['table.include.list'] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const before = new Set(list(registered));
  return list(desired).filter((table) => !before.has(table));
}

/**
 * A table added to table.include.list is only streamed from then on: Debezium snapshots a table
 * once, when the connector has no offsets. Its existing rows (say, the assignment history that CRM
 * migration 002 backfilled) would never reach the topics. So the connector is stopped and its
 * source offsets deleted; once the new config is registered and resumed, snapshot.mode=initial
 * re-reads every table (`op: "r"`), then streams from the slot. The topics stay: snapshot rows
 * carry the current LSN, so the replica keeps the same state, and consumers skip `r` for cache
 * invalidation and the ETL's recomputation.
 */
async function resnapshotForNewTables(env: StackEnv, tables: readonly string[]): Promise<void> {
  log.warn('kafka-connect', `${CONNECTOR_NAME} now includes ${tables.join(', ')}: deleting its source offsets so it snapshots them`);
  await connectRequest(env, 'PUT', `/connectors/${CONNECTOR_NAME}/stop`);
  await waitForConnectorState(env, 'STOPPED');
  await connectRequest(env, 'DELETE', `/connectors/${CONNECTOR_NAME}/offsets`);
}

async function connectRequest(env: StackEnv, method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${connectUrl(env)}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  return response;
}

async function waitForConnectorState(env: StackEnv, state: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    const status = (await (await connectRequest(env, 'GET', `/connectors/${CONNECTOR_NAME}/status`)).json()) as ConnectorStatus;
    last = status.connector.state;
    if (last === state && status.tasks.every((t) => t.state === state)) return;
    await sleep(500);
  }
  throw new Error(`${CONNECTOR_NAME} not ${state} after ${Math.round(timeoutMs / 1000)}s (last ${last})`);
}

/**
 * Excluding a column keeps it out of new events only: the topics still hold every event written
 * before, and the issue's scan reads them from the beginning. So when the exclude list grows, the
 * topics under the connector's prefix (the table topics and the CDC consumer's dead-letter topic
 * crm.dlq, which keeps copies of their events) are deleted together with the connector's source
 * offsets, and the connector then starts as new: snapshot.mode=initial re-reads every table into fresh
 * topics. The replica is unharmed: snapshot rows carry the current LSN, higher than any version it
 * holds, and the CDC consumer resets its group offsets past the end of the new topics to the start.
 */
async function purgeTopicsAndResnapshot(env: StackEnv, desired: Record<string, string>, columns: readonly string[]): Promise<void> {
  const prefix = desired['topic.prefix'];
  if (!prefix) throw new Error('connector config lacks topic.prefix');
  log.warn('kafka-connect', `${CONNECTOR_NAME} now excludes ${columns.join(', ')}: deleting the ${prefix}.* topics that hold them and re-snapshotting`);
  // Offsets can be deleted only while the connector is STOPPED (Kafka Connect 3.6+).
  await connectRequest(env, 'PUT', `/connectors/${CONNECTOR_NAME}/stop`);
  await waitForConnectorState(env, 'STOPPED');
  await connectRequest(env, 'DELETE', `/connectors/${CONNECTOR_NAME}/offsets`);

  const kafka = createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'stack-provision', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    // Deletion is asynchronous in the broker: wait until the names are gone, or a re-created topic
    // could still be the old one.
    const started = Date.now();
    while ((await admin.listTopics()).some((topic) => topics.includes(topic))) {
      if (Date.now() - started > 60_000) throw new Error(`topics ${topics.join(', ')} still listed 60 s after their deletion`);
      await sleep(500);
    }
    log.step('kafka-connect', `deleted topics ${topics.join(', ') || '(none)'}`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Registers the connector, or updates it when the committed config changed; an equal config is left
 * alone. Returns whether the worker got a new config.
 */
async function registerConnector(env: StackEnv): Promise<boolean> {
  const base = connectUrl(env);
  const desired = loadConnectorConfig();
  await assertPublicationExists(env, desired);
  const current = await fetch(`${base}/connectors/${CONNECTOR_NAME}/config`, { signal: AbortSignal.timeout(10_000) });
  let purged = false;
  if (current.ok) {
    const { name: _name, ...existing } = (await current.json()) as Record<string, string>;
    if (sameConfig(existing, desired)) {
      log.step('kafka-connect', `${CONNECTOR_NAME} already registered with the committed config`);
      return false;
    }
    const newlyExcluded = newlyExcludedColumns(existing, desired);
    if (newlyExcluded.length > 0) {
      await purgeTopicsAndResnapshot(env, desired, newlyExcluded);
      purged = true;
    } else {
      const newlyIncluded = newlyIncludedTables(existing, desired);
      if (newlyIncluded.length > 0) {
        await resnapshotForNewTables(env, newlyIncluded);
        purged = true;
      }
    }
  } else if (current.status !== 404) {
    throw new Error(`GET ${base}/connectors/${CONNECTOR_NAME}/config answered ${current.status}: ${await current.text()}`);
  }
  // PUT is create-or-replace, so a re-run after a config change converges instead of failing with 409.
  const response = await fetch(`${base}/connectors/${CONNECTOR_NAME}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(desired),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`registering ${CONNECTOR_NAME} failed (${response.status}): ${await response.text()}`);
  log.step('kafka-connect', `${CONNECTOR_NAME} ${response.status === 201 ? 'registered' : 'updated'}`);
  // A config update leaves a stopped connector stopped; resuming it starts the re-snapshot.
  if (purged) await connectRequest(env, 'PUT', `/connectors/${CONNECTOR_NAME}/resume`);
  return true;
}

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

function describeFailure(status: ConnectorStatus): string {
  const failed = [
    ...(status.connector.state === 'FAILED' ? [`connector: ${status.connector.trace ?? '(no trace)'}`] : []),
    ...status.tasks.filter((t) => t.state === 'FAILED').map((t) => `task ${t.id}: ${t.trace ?? '(no trace)'}`),
  ];
  return failed.join('\n').slice(0, 6_000);
}

/**
 * Waits until the connector and all its tasks are RUNNING. A connector found FAILED (say, the
 * database was down when the worker last started it) is restarted once; failing again is fatal.
 * Right after a config update the status still shows the old tasks RUNNING for a moment, so then
 * RUNNING must hold for `stableMs` before it counts.
 */
async function waitForConnectorRunning(env: StackEnv, { stableMs = 0, timeoutMs = 120_000, restarts = 1 } = {}): Promise<void> {
  const base = connectUrl(env);
  const started = Date.now();
  let restartsLeft = restarts;
  let runningSince: number | undefined;
  let last = '';
  while (Date.now() - started < timeoutMs) {
    const response = await fetch(`${base}/connectors/${CONNECTOR_NAME}/status`, { signal: AbortSignal.timeout(5_000) });
    if (response.ok) {
      const status = (await response.json()) as ConnectorStatus;
      const states = [status.connector.state, ...status.tasks.map((t) => t.state)];
      last = `connector ${status.connector.state}, tasks ${status.tasks.map((t) => `${t.id}:${t.state}`).join(' ') || 'none yet'}`;
      if (states.includes('FAILED')) {
        runningSince = undefined;
        if (restartsLeft === 0) throw new Error(`${CONNECTOR_NAME} FAILED\n${describeFailure(status)}`);
        log.warn('kafka-connect', `${CONNECTOR_NAME} is FAILED; restarting it\n${describeFailure(status).slice(0, 1_000)}`);
        const restart = await fetch(`${base}/connectors/${CONNECTOR_NAME}/restart?includeTasks=true&onlyFailed=true`, { method: 'POST' });
        if (!restart.ok && restart.status !== 202) throw new Error(`restarting ${CONNECTOR_NAME} failed (${restart.status}): ${await restart.text()}`);
        restartsLeft--;
        // The status of the failed task can outlive the restart request for a moment.
        await sleep(2_000);
      } else if (status.tasks.length > 0 && states.every((s) => s === 'RUNNING')) {
        runningSince ??= Date.now();
        if (Date.now() - runningSince >= stableMs) {
          log.step('kafka-connect', `${CONNECTOR_NAME} RUNNING (${status.tasks.length} task)`);
          return;
        }
      } else {
        runningSince = undefined;
      }
    } else if (response.status !== 404) {
      last = `status answered ${response.status}`;
    }
    await sleep(500);
  }
  throw new Error(`${CONNECTOR_NAME} not RUNNING after ${Math.round(timeoutMs / 1000)}s (${last})`);
}

export const kafkaConnect: StackService = {
  name: 'kafka-connect',
  ports: [REST_PORT],
  dependsOn: ['kafka', 'postgres-crm'],
  version: `Kafka Connect ${KAFKA_VERSION} + Debezium PostgreSQL ${DEBEZIUM_VERSION}`,
  async install() {
    await ensureJavaAndMaven('kafka-connect');
    await copyMavenClasspath(
      'kafka-connect',
      [`org.apache.kafka:connect-runtime:${KAFKA_VERSION}`, `org.apache.kafka:connect-json:${KAFKA_VERSION}`, SLF4J_BINDING],
      libsDir,
    );
    await installDebeziumPlugin();
  },
  isReady: isConnectReady,
  async start(env) {
    if (!env.CRM_CDC_DB_PASSWORD) throw new Error('CRM_CDC_DB_PASSWORD is not set; the Debezium connector reads it from the worker environment');
    if (runsStaleConfig(env)) {
      log.step('kafka-connect', 'the running worker has another config (Kafka credentials); restarting it with the current one');
      await stopDaemon('kafka-connect', 30_000);
    }
    if (!runningPid('kafka-connect')) {
      // A broker `up` found already running skipped its start(): make sure the connect user signs in
      // with this password and its ACLs exist before the worker needs them (a refused worker fails).
      await provisionPrincipalsAndAcls(env);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(workerConfigFile, renderWorkerConfig(env), { mode: 0o600 });
      chmodSync(workerConfigFile, 0o600);
      startDaemon('kafka-connect', 'java', [...jvmArgs('512m'), '-cp', `${libsDir}/*`, 'org.apache.kafka.connect.cli.ConnectDistributed', workerConfigFile], {
        cwd: dataDir,
        // Only the secret the env config provider may resolve (see connect-distributed.properties).
        env: { CRM_CDC_DB_PASSWORD: env.CRM_CDC_DB_PASSWORD },
      });
    } else {
      log.step('kafka-connect', `pid ${runningPid('kafka-connect')} is running but not answering yet; waiting for it`);
    }
    await waitForDaemon('kafka-connect', () => isConnectReady(env), { timeoutMs: 180_000 });
  },
  async provision(env) {
    const changed = await registerConnector(env);
    // Right after a config change the task that failed on the old config (say, a worker restarted to
    // get a new secret still held the old connector config) may report FAILED more than once.
    await waitForConnectorRunning(env, { stableMs: changed ? 3_000 : 0, restarts: changed ? 3 : 1 });
  },
  async stop() {
    await stopDaemon('kafka-connect', 30_000);
  },
};

export const services: StackService[] = [kafkaConnect];
