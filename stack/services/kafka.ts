import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import type { StackEnv } from '../lib/env.ts';
import { log } from '../../tools/kit/log.ts';
import { copyMavenClasspath } from '../../tools/kit/maven.ts';
import { paths } from '../../tools/kit/paths.ts';
import { redact, run, runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import type { StackService } from './service.ts';
import { createKafkaClient, type KafkaClientSettings } from '../../jobs/cdc/kafka-client.ts';
import { DEFAULT_ACL_NAMES, desiredKafkaAcls, reconcileKafkaAcls } from './kafka-acls.ts';
import { crmCdcTopics, ensureTopics } from './kafka-topics.ts';

/** Kafka 4.3.1 is the version Debezium 3.7.0.Final is built and tested against. */
export const KAFKA_VERSION = '4.3.1';
/** Kafka logs through SLF4J 1.7; this binding routes it into the log4j2 core Kafka already ships. */
export const SLF4J_BINDING = 'org.apache.logging.log4j:log4j-slf4j-impl:2.25.4';
const BROKER_PORT = 9092;
const CONTROLLER_PORT = 9093;

const libsDir = join(paths.vendor, `kafka-${KAFKA_VERSION}`, 'libs');
/**
 * Where a broker of this module lives: the stack's (`STACK_BROKER`), or a private one a test starts
 * with the same code on its own ports and folder. `service` names its pid and log files.
 */
export interface BrokerLayout {
  service: string;
  dataDir: string;
  brokerPort: number;
  controllerPort: number;
}

const STACK_BROKER: BrokerLayout = { service: 'kafka', dataDir: paths.data('kafka'), brokerPort: BROKER_PORT, controllerPort: CONTROLLER_PORT };
const logDirOf = (layout: BrokerLayout) => join(layout.dataDir, 'logs');
const configFileOf = (layout: BrokerLayout) => join(layout.dataDir, 'server.properties');

/** JVM flags shared by the broker and the Connect worker: small heaps, few GC threads. */
export function jvmArgs(heap: string): string[] {
  return [
    `-Xmx${heap}`,
    '-Xms64m',
    // Serial GC: the heaps are small and the box has 2 cores shared with everything else.
    '-XX:+UseSerialGC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(paths.config, 'kafka', 'log4j2.properties')}`,
  ];
}

/** Debian packages both JVM services need: Java 17 runs them, Maven fetches their jars. */
export async function ensureJavaAndMaven(service: string): Promise<void> {
  await ensureDebPackages(service, ['openjdk-17-jre-headless', 'maven']);
}

/** Fills `{{NAME}}` placeholders of a committed config template; a missing value is an error. */
export function renderTemplate(templateFile: string, values: Record<string, string>): string {
  const text = readFileSync(templateFile, 'utf8');
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${templateFile}: no value for {{${name}}}`);
    return value;
  });
}


function brokers(env: StackEnv): string[] {
  const list = (env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('KAFKA_BROKERS is empty');
  return list;
}

/**
 * The broker's principals, one per client (docs/stack-services.md, "Kafka"): `admin` is the broker's
 * own identity and the only super user (the stack's setup and the tests use it), `connect` is the
 * Kafka Connect worker with Debezium, `jobs` the CDC consumer. Passwords are generated per machine
 * into .stack/stack.env (stack/lib/env.ts); KAFKA_<NAME>_USER may rename a user.
 */
export const KAFKA_PRINCIPALS = ['admin', 'connect', 'jobs'] as const;
export type KafkaPrincipal = (typeof KAFKA_PRINCIPALS)[number];

/** The SASL mechanism of the client listener; the KRaft controller listener uses PLAIN (see server.properties). */
export const KAFKA_SCRAM_MECHANISM = 'SCRAM-SHA-512';

function variable(principal: KafkaPrincipal, what: 'USER' | 'PASSWORD'): string {
  return `KAFKA_${principal.toUpperCase()}_${what}`;
}

export function kafkaUser(env: StackEnv, principal: KafkaPrincipal): string {
  const user = env[variable(principal, 'USER')] || principal;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(user)) throw new Error(`${variable(principal, 'USER')} must be letters, digits, . _ - (got "${user}")`);
  return user;
}

/**
 * A principal's password. It ends up inside a JAAS line and a SCRAM config value, so quotes,
 * backslashes, commas, brackets and whitespace are refused rather than escaped.
 */
export function kafkaPassword(env: StackEnv, principal: KafkaPrincipal): string {
  const name = variable(principal, 'PASSWORD');
  const password = env[name];
  if (!password) throw new Error(`${name} is not set: stack/lib/env.ts generates it into .stack/stack.env (run \`node stack/cli.ts up kafka\`), or set it in the environment`);
  if (password.length < 16 || !/^[A-Za-z0-9._~+\/=-]+$/.test(password)) {
    throw new Error(`${name} must be at least 16 characters of letters, digits and . _ ~ + / = - (a generated secret)`);
  }
  return password;
}

/** How a tool or test connects as one of the stack's principals: the settings every kafkajs client takes. */
export function kafkaClientSettings(env: StackEnv, principal: KafkaPrincipal): KafkaClientSettings {
  return { brokers: brokers(env), sasl: { mechanism: 'scram-sha-512', username: kafkaUser(env, principal), password: kafkaPassword(env, principal) } };
}

type BrokerProbe = 'ready' | 'unauthenticated';

/**
 * A Metadata round trip as `settings`' principal: 'ready' when the broker lists itself with a
 * controller, 'unauthenticated' when it answers but refuses the credentials; throws while it does not answer.
 */
async function probeBroker(settings: KafkaClientSettings): Promise<BrokerProbe> {
  const kafka = createKafkaClient(settings, {
    clientId: 'stack-probe',
    connectionTimeout: 1_000,
    authenticationTimeout: 2_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null) throw new Error('no broker or controller in the cluster metadata yet');
    return 'ready';
  } catch (error) {
    if (error instanceof Error && error.name === 'KafkaJSSASLAuthenticationError') return 'unauthenticated';
    throw error;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Ready means the broker answers a Metadata request from the admin principal and lists itself. */
async function isKafkaReady(env: StackEnv): Promise<boolean> {
  return (await probeBroker(kafkaClientSettings(env, 'admin'))) === 'ready';
}

/** The broker config for this environment. `acceptPlainAdmin` adds PLAIN for the admin on the client listener (bootstrap only). */
export function renderBrokerConfig(env: StackEnv, { acceptPlainAdmin = false, layout = STACK_BROKER } = {}): string {
  const admin = kafkaUser(env, 'admin');
  const password = kafkaPassword(env, 'admin');
  const rendered = renderTemplate(join(paths.config, 'kafka', 'server.properties'), {
    BROKER_PORT: String(layout.brokerPort),
    CONTROLLER_PORT: String(layout.controllerPort),
    LOG_DIR: logDirOf(layout),
    ADMIN_USER: admin,
    ADMIN_PASSWORD: password,
  });
  if (!acceptPlainAdmin) return rendered;
  return (
    rendered +
    '\n# Credential bootstrap only (stack/services/kafka.ts bootstrapScramCredentials): the admin may sign in with PLAIN.\n' +
    `listener.name.broker.sasl.enabled.mechanisms=${KAFKA_SCRAM_MECHANISM},PLAIN\n` +
    `listener.name.broker.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${admin}="${password}";\n`
  );
}

/** KRaft storage is formatted exactly once, with every principal's SCRAM credential in its first metadata. */
async function formatStorageOnce(env: StackEnv, layout: BrokerLayout): Promise<void> {
  const logDir = logDirOf(layout);
  if (existsSync(join(logDir, 'meta.properties'))) return;
  // A Kafka cluster id is 16 random bytes in URL-safe base64, what `kafka-storage random-uuid` prints.
  const clusterId = randomBytes(16).toString('base64url');
  log.step('kafka', `formatting KRaft storage in ${logDir} (cluster id ${clusterId}, SCRAM users ${KAFKA_PRINCIPALS.map((p) => kafkaUser(env, p)).join(', ')})`);
  const scram = KAFKA_PRINCIPALS.flatMap((p) => ['--add-scram', `${KAFKA_SCRAM_MECHANISM}=[name=${kafkaUser(env, p)},password=${kafkaPassword(env, p)}]`]);
  await run('java', [...jvmArgs('256m'), '-cp', `${libsDir}/*`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', configFileOf(layout), ...scram], { secrets: KAFKA_PRINCIPALS.map((p) => kafkaPassword(env, p)) });
}

function writeBrokerConfig(config: string, layout: BrokerLayout): void {
  mkdirSync(logDirOf(layout), { recursive: true });
  // The file holds the admin password: readable by the stack's user only.
  writeFileSync(configFileOf(layout), config, { mode: 0o600 });
  chmodSync(configFileOf(layout), 0o600);
}

async function waitForBroker(settings: KafkaClientSettings, layout: BrokerLayout): Promise<BrokerProbe> {
  let outcome: BrokerProbe = 'ready';
  await waitForDaemon(
    layout.service,
    async () => {
      outcome = await probeBroker(settings);
      return true;
    },
    { timeoutMs: 120_000 },
  );
  return outcome;
}

function launchBroker(layout: BrokerLayout): void {
  startDaemon(layout.service, 'java', [...jvmArgs('512m'), '-cp', `${libsDir}/*`, 'kafka.Kafka', configFileOf(layout)], { cwd: layout.dataDir });
}

/**
 * Stores SCRAM credentials with kafka-configs (kafka.admin.ConfigCommand; kafkajs has no
 * AlterUserScramCredentials), signed in as the admin with `adminMechanism` through a 0600 client
 * file. The new password is an argument of that short-lived local process (its --add-config-file
 * form rejects SCRAM keys in 4.3.1), redacted from anything reported on failure.
 */
async function storeScramCredentials(env: StackEnv, principals: readonly KafkaPrincipal[], adminMechanism: 'PLAIN' | typeof KAFKA_SCRAM_MECHANISM, layout: BrokerLayout): Promise<void> {
  const loginModule = adminMechanism === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
  const clientFile = join(layout.dataDir, 'admin-client.properties');
  writeFileSync(
    clientFile,
    `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=${adminMechanism}\nsasl.jaas.config=${loginModule} required username="${kafkaUser(env, 'admin')}" password="${kafkaPassword(env, 'admin')}";\n`,
    { mode: 0o600 },
  );
  try {
    for (const principal of principals) {
      const user = kafkaUser(env, principal);
      const result = await run(
        'java',
        [...jvmArgs('128m'), '-cp', `${libsDir}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', `127.0.0.1:${layout.brokerPort}`, '--command-config', clientFile,
          '--alter', '--entity-type', 'users', '--entity-name', user, '--add-config', `${KAFKA_SCRAM_MECHANISM}=[password=${kafkaPassword(env, principal)}]`],
        { secrets: [kafkaPassword(env, principal), kafkaPassword(env, 'admin')], allowFailure: true },
      );
      if (result.code !== 0) throw new Error(`kafka: storing the SCRAM credential of ${user} failed (kafka-configs exited ${result.code})\n${redact(result.stderr || result.stdout, [kafkaPassword(env, principal), kafkaPassword(env, 'admin')]).slice(0, 2000)}`);
      log.step(layout.service, `stored the SCRAM credential of ${user}`);
    }
  } finally {
    rmSync(clientFile, { force: true });
  }
}

/**
 * A data dir formatted before SASL (every dev machine's, once) holds no SCRAM credential, so not even
 * the admin can sign in, and KRaft's controller cannot store one (it refuses AlterUserScramCredentials
 * sent to it directly). So the broker is restarted once with PLAIN for the admin on its client listener (a
 * static credential from the config file), the credentials are stored through it, and the broker
 * is restarted with the committed config. Topics and offsets are untouched. The same path repairs a
 * changed KAFKA_ADMIN_PASSWORD.
 */
async function bootstrapScramCredentials(env: StackEnv, layout: BrokerLayout): Promise<void> {
  log.warn(layout.service, 'the admin cannot sign in with SCRAM (storage formatted before SASL, or a new KAFKA_ADMIN_PASSWORD): restarting once to store the credentials');
  await stopDaemon(layout.service, 30_000);
  writeBrokerConfig(renderBrokerConfig(env, { acceptPlainAdmin: true, layout }), layout);
  launchBroker(layout);
  const plainAdmin: KafkaClientSettings = { brokers: brokers(env), sasl: { mechanism: 'plain', username: kafkaUser(env, 'admin'), password: kafkaPassword(env, 'admin') } };
  if ((await waitForBroker(plainAdmin, layout)) !== 'ready') throw new Error('kafka: the admin is refused even with PLAIN during the credential bootstrap');
  await storeScramCredentials(env, KAFKA_PRINCIPALS, 'PLAIN', layout);
  await stopDaemon(layout.service, 30_000);
  writeBrokerConfig(renderBrokerConfig(env, { layout }), layout);
  launchBroker(layout);
}

/** Whether a principal signs in with its current password (a Metadata round trip). */
async function canSignIn(env: StackEnv, principal: KafkaPrincipal): Promise<boolean> {
  const kafka = createKafkaClient(kafkaClientSettings(env, principal), { clientId: 'stack-provision', retry: { retries: 2 }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'KafkaJSSASLAuthenticationError') return false;
    throw error;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Every client principal signs in with the password in the environment (a changed or new one is
 * stored), and the ACLs are exactly those of kafka-acls.ts. Against compose.yaml's broker there is
 * no Java here: its storage is formatted with every credential, so only the ACLs are written.
 */
export async function provisionPrincipalsAndAcls(env: StackEnv, layout: BrokerLayout = STACK_BROKER): Promise<void> {
  const stale: KafkaPrincipal[] = [];
  for (const principal of KAFKA_PRINCIPALS) if (principal !== 'admin' && !(await canSignIn(env, principal))) stale.push(principal);
  if (stale.length > 0) {
    if (!existsSync(libsDir)) throw new Error(`kafka: ${stale.map((p) => kafkaUser(env, p)).join(', ')} cannot sign in and this machine has no Kafka tools to store their credentials (compose: recreate the kafka-data volume)`);
    await storeScramCredentials(env, stale, KAFKA_SCRAM_MECHANISM, layout);
  }
  const kafka = createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'stack-provision', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const acls = desiredKafkaAcls({ ...DEFAULT_ACL_NAMES, connectUser: kafkaUser(env, 'connect'), jobsUser: kafkaUser(env, 'jobs') });
    const { created, deleted } = await reconcileKafkaAcls(admin, acls);
    log.step(layout.service, created + deleted === 0 ? `ACLs up to date (${acls.length})` : `ACLs: ${created} created, ${deleted} removed (${acls.length} in force)`);
    // The change topics and the DLQ exist before anyone reads them: jobs has no CREATE (kafka-acls.ts).
    const topics = crmCdcTopics(DEFAULT_ACL_NAMES.dlqTopic);
    const createdTopics = await ensureTopics(admin, topics);
    log.step(layout.service, createdTopics.length === 0 ? `CDC topics present (${topics.length})` : `CDC topics created: ${createdTopics.join(', ')}`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts the broker (or restarts one running an older config) and returns once the admin signs in
 * with SCRAM, the client principals sign in and the ACLs are in force. A data dir formatted before
 * SASL gets its credentials through bootstrapScramCredentials. `env.KAFKA_BROKERS` must point at
 * `layout`'s broker port.
 */
export async function startBroker(env: StackEnv, layout: BrokerLayout = STACK_BROKER): Promise<void> {
  const config = renderBrokerConfig(env, { layout });
  const configFile = configFileOf(layout);
  if (runningPid(layout.service) && existsSync(configFile) && readFileSync(configFile, 'utf8') !== config) {
    // `up` found it not answering as the admin: a broker from an older config (before SASL, say).
    log.step(layout.service, 'the running broker has another config; restarting it with the current one');
    await stopDaemon(layout.service, 30_000);
  }
  if (!runningPid(layout.service)) {
    writeBrokerConfig(config, layout);
    await formatStorageOnce(env, layout);
    launchBroker(layout);
  } else {
    log.step(layout.service, `pid ${runningPid(layout.service)} is running but not answering yet; waiting for it`);
  }
  if ((await waitForBroker(kafkaClientSettings(env, 'admin'), layout)) === 'unauthenticated') {
    await bootstrapScramCredentials(env, layout);
    if ((await waitForBroker(kafkaClientSettings(env, 'admin'), layout)) !== 'ready') throw new Error('kafka: the admin still cannot sign in with SCRAM after storing its credential');
  }
  // Here too, not only in provision(): `up` starts Kafka Connect before any provision step, and a
  // worker denied its own topics fails at start.
  await provisionPrincipalsAndAcls(env, layout);
}

export const kafka: StackService = {
  name: 'kafka',
  ports: [BROKER_PORT, CONTROLLER_PORT],
  version: `Apache Kafka ${KAFKA_VERSION} (KRaft, kafka_2.13 jars)`,
  async install() {
    await ensureJavaAndMaven('kafka');
    await copyMavenClasspath('kafka', [`org.apache.kafka:kafka_2.13:${KAFKA_VERSION}`, SLF4J_BINDING], libsDir);
  },
  isReady: isKafkaReady,
  start: (env) => startBroker(env),
  provision: (env) => provisionPrincipalsAndAcls(env),
  async stop() {
    // A clean shutdown lets the controller write its snapshot; the next start skips log recovery.
    await stopDaemon('kafka', 30_000);
  },
};

export const services: StackService[] = [kafka];
