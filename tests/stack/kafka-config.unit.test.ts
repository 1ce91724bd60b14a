import { describe, expect, test } from 'bun:test';
import kafkajs from 'kafkajs';
import { ConfigError } from '../../common/config.ts';
import { loadJobsConfig } from '../../jobs/config.ts';
import { desiredKafkaAcls, DEFAULT_ACL_NAMES } from '../../stack/services/kafka-acls.ts';
import { kafkaClientSettings, kafkaPassword, renderBrokerConfig } from '../../stack/services/kafka.ts';
import { renderWorkerConfig } from '../../stack/services/kafka-connect.ts';
import { kafkaIdentity } from '../../stack/dev.ts';

const secret = (name: string) => `${name}-0123456789abcdefghij`;
const env = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  KAFKA_ADMIN_PASSWORD: secret('admin'),
  KAFKA_CONNECT_PASSWORD: secret('connect'),
  KAFKA_JOBS_PASSWORD: secret('jobs'),
};

function properties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([a-z0-9._-]+)=(.*)$/.exec(line);
    if (match) map.set(match[1]!, match[2]!); // a later line wins, as in java.util.Properties
  }
  return map;
}

describe('broker config (stack/config/kafka/server.properties)', () => {
  const config = properties(renderBrokerConfig(env));

  test('no listener answers without SASL, and nothing is allowed without an ACL', () => {
    expect(config.get('listener.security.protocol.map')).toBe('BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT');
    expect(config.get('listeners')).toBe('BROKER://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(config.get('listener.name.broker.sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512');
    expect(config.get('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(config.get('allow.everyone.if.no.acl.found')).toBe('false');
    expect(config.get('super.users')).toBe('User:admin');
  });

  test('the admin password is filled in; the credential bootstrap adds PLAIN for the admin only', () => {
    expect(config.get('listener.name.broker.scram-sha-512.sasl.jaas.config')).toContain(`password="${env.KAFKA_ADMIN_PASSWORD}"`);
    const bootstrap = properties(renderBrokerConfig(env, { acceptPlainAdmin: true }));
    expect(bootstrap.get('listener.name.broker.sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512,PLAIN');
    expect(bootstrap.get('listener.name.broker.plain.sasl.jaas.config')).toBe(`org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="${env.KAFKA_ADMIN_PASSWORD}";`);
  });

  test('passwords that would break the JAAS line or a SCRAM value are refused, naming the variable', () => {
    expect(() => kafkaPassword({ ...env, KAFKA_JOBS_PASSWORD: 'abcdefghijklmnop" admin="x' }, 'jobs')).toThrow(/KAFKA_JOBS_PASSWORD must be/);
    expect(() => kafkaPassword({ ...env, KAFKA_JOBS_PASSWORD: 'short' }, 'jobs')).toThrow(/KAFKA_JOBS_PASSWORD must be at least 16/);
    expect(() => kafkaPassword({ KAFKA_BROKERS: '127.0.0.1:9092' }, 'connect')).toThrow(/KAFKA_CONNECT_PASSWORD is not set/);
  });

  test('every client principal gets SCRAM-SHA-512 settings of its own', () => {
    expect(kafkaClientSettings(env, 'jobs')).toEqual({ brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'scram-sha-512', username: 'jobs', password: env.KAFKA_JOBS_PASSWORD } });
    expect(kafkaClientSettings({ ...env, KAFKA_CONNECT_USER: 'debezium' }, 'connect').sasl.username).toBe('debezium');
  });
});

describe('Connect worker config', () => {
  const config = properties(renderWorkerConfig(env));
  test('the worker and the connectors’ producer, consumer and admin clients all sign in as connect', () => {
    for (const prefix of ['', 'producer.', 'consumer.', 'admin.']) {
      expect(config.get(`${prefix}security.protocol`)).toBe('SASL_PLAINTEXT');
      expect(config.get(`${prefix}sasl.mechanism`)).toBe('SCRAM-SHA-512');
      expect(config.get(`${prefix}sasl.jaas.config`)).toBe(`org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="${env.KAFKA_CONNECT_PASSWORD}";`);
    }
  });
});

describe('ACLs (stack/services/kafka-acls.ts)', () => {
  const acls = desiredKafkaAcls({ ...DEFAULT_ACL_NAMES, connectUser: 'connect', jobsUser: 'jobs' });
  test('jobs can write nothing but the DLQ; connect writes nothing jobs reads except the change topics', () => {
    const WRITE = kafkajs.AclOperationTypes.WRITE;
    expect(acls.filter((a) => a.principal === 'User:jobs' && a.operation === WRITE).map((a) => a.resourceName)).toEqual(['crm.dlq']);
    expect(acls.filter((a) => a.principal === 'User:connect' && a.operation === WRITE).map((a) => a.resourceName).sort()).toEqual(['__debezium-heartbeat.crm', 'connect-', 'crm.crm.']);
    expect(new Set(acls.map((a) => a.principal))).toEqual(new Set(['User:connect', 'User:jobs']));
  });
});

describe('jobs Kafka settings (jobs/config.ts)', () => {
  const base = { TELEMETRY_DATABASE_URL: 'postgres://t:t@127.0.0.1:5436/t', CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_USER: 'jobs_writer', CLICKHOUSE_PASSWORD: 'x', CLICKHOUSE_DATABASE: 'reports', CORE_URL: 'http://127.0.0.1:8001', JOBS_CLIENT_SECRET: secret('client'), KEYCLOAK_URL: 'http://127.0.0.1:8080', KEYCLOAK_REALM: 'reports-realm' };

  function problemsOf(extra: Record<string, string>): string[] {
    try {
      loadJobsConfig({ ...base, ...extra });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  test('without its Kafka password jobs refuses to start, naming the variable', () => {
    expect(problemsOf({}).some((p) => p.startsWith('KAFKA_JOBS_PASSWORD:'))).toBe(true);
    expect(problemsOf({ KAFKA_JOBS_PASSWORD: 'short' }).some((p) => p.startsWith('KAFKA_JOBS_PASSWORD: must be at least 16'))).toBe(true);
    expect(problemsOf({ KAFKA_JOBS_PASSWORD: secret('jobs'), KAFKA_SASL_MECHANISM: 'plain' }).some((p) => p.startsWith('KAFKA_SASL_MECHANISM:'))).toBe(true);
  });

  test('builds the kafkajs settings of the jobs principal', () => {
    const config = loadJobsConfig({ ...base, KAFKA_JOBS_PASSWORD: secret('jobs'), KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.2:9092' });
    expect(config.KAFKA).toEqual({ brokers: ['127.0.0.1:9092', '127.0.0.2:9092'], sasl: { mechanism: 'scram-sha-512', username: 'jobs', password: secret('jobs') } });
  });
});

describe('npm run dev hands each app only its own Kafka password (stack/dev.ts kafkaIdentity)', () => {
  test('jobs keeps KAFKA_JOBS_PASSWORD; no app gets the admin or connect password', () => {
    const started = (app: string) => ({ ...env, ...kafkaIdentity(app) });
    expect(started('jobs').KAFKA_JOBS_PASSWORD).toBe(env.KAFKA_JOBS_PASSWORD);
    for (const app of ['core', 'jobs', 'edge', 'frontend']) {
      expect(started(app).KAFKA_ADMIN_PASSWORD).toBe('');
      expect(started(app).KAFKA_CONNECT_PASSWORD).toBe('');
      if (app !== 'jobs') expect(started(app).KAFKA_JOBS_PASSWORD).toBe('');
    }
  });
});
