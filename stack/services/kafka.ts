import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import type { StackEnv } from '../lib/env.ts';
import { log } from '../../tools/kit/log.ts';
import { copyMavenClasspath } from '../../tools/kit/maven.ts';
import { paths } from '../../tools/kit/paths.ts';
import { run, runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import type { StackService } from './service.ts';
import { fixKafkajsNegativeTimeout } from '../../jobs/cdc/kafkajs-negative-timeout.ts';

/** Kafka 4.3.1 is the version Debezium 3.7.0.Final is built and tested against. */
export const KAFKA_VERSION = '4.3.1';
/** Kafka logs through SLF4J 1.7; this binding routes it into the log4j2 core Kafka already ships. */
export const SLF4J_BINDING = 'org.apache.logging.log4j:log4j-slf4j-impl:2.25.4';
const BROKER_PORT = 9092;
const CONTROLLER_PORT = 9093;

const libsDir = join(paths.vendor, `kafka-${KAFKA_VERSION}`, 'libs');
const dataDir = paths.data('kafka');
const logDir = join(dataDir, 'logs');

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

/** Ready means the broker answers a Metadata request and lists itself: a real protocol round trip. */
async function isKafkaReady(env: StackEnv): Promise<boolean> {
  fixKafkajsNegativeTimeout();
  const kafka = new Kafka({
    clientId: 'stack-probe',
    brokers: brokers(env),
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}


/** KRaft storage is formatted exactly once; meta.properties marks a formatted log dir. */
async function formatStorageOnce(configFile: string): Promise<void> {
  if (existsSync(join(logDir, 'meta.properties'))) return;
  // A Kafka cluster id is 16 random bytes in URL-safe base64, what `kafka-storage random-uuid` prints.
  const clusterId = randomBytes(16).toString('base64url');
  log.step('kafka', `formatting KRaft storage in ${logDir} (cluster id ${clusterId})`);
  await run('java', [...jvmArgs('256m'), '-cp', `${libsDir}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile]);
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
  async start(env) {
    if (!runningPid('kafka')) {
      mkdirSync(logDir, { recursive: true });
      const configFile = join(dataDir, 'server.properties');
      writeFileSync(
        configFile,
        renderTemplate(join(paths.config, 'kafka', 'server.properties'), {
          BROKER_PORT: String(BROKER_PORT),
          CONTROLLER_PORT: String(CONTROLLER_PORT),
          LOG_DIR: logDir,
        }),
      );
      await formatStorageOnce(configFile);
      startDaemon('kafka', 'java', [...jvmArgs('512m'), '-cp', `${libsDir}/*`, 'kafka.Kafka', configFile], { cwd: dataDir });
    } else {
      log.step('kafka', `pid ${runningPid('kafka')} is running but not answering yet; waiting for it`);
    }
    await waitForDaemon('kafka', () => isKafkaReady(env), { timeoutMs: 120_000 });
  },
  async stop() {
    // A clean shutdown lets the controller write its snapshot; the next start skips log recovery.
    await stopDaemon('kafka', 30_000);
  },
};

export const services: StackService[] = [kafka];
