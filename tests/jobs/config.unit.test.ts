import { describe, expect, test } from 'bun:test';
import { ConfigError } from '../../common/config.ts';
import { loadJobsConfig } from '../../jobs/config.ts';

// KAFKA_JOBS_PASSWORD is the CDC consumer's: a jobs process with CDC off (ETL and retention only)
// must start without it, and one with CDC on must refuse to start without it.
const secret = (name: string) => `${name}-0123456789abcdefghij`;
const base = {
  TELEMETRY_DATABASE_URL: 'postgres://t:t@127.0.0.1:5436/t',
  CLICKHOUSE_URL: 'http://127.0.0.1:8123',
  CLICKHOUSE_USER: 'jobs_writer',
  CLICKHOUSE_PASSWORD: 'x',
  CLICKHOUSE_DATABASE: 'reports',
  CORE_URL: 'http://127.0.0.1:8001',
  JOBS_CLIENT_SECRET: secret('client'),
  KEYCLOAK_URL: 'http://127.0.0.1:8080',
  KEYCLOAK_REALM: 'reports-realm',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadJobsConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('jobs config: the Kafka password', () => {
  test('CDC off: not needed, and no Kafka settings are built', () => {
    expect(problemsOf({ ...base, CDC_ENABLED: 'false' })).toEqual([]);
    expect(loadJobsConfig({ ...base, CDC_ENABLED: 'false' }).KAFKA).toBeUndefined();
  });

  test('CDC on (the default): required, named in the refusal', () => {
    for (const env of [base, { ...base, CDC_ENABLED: 'true' }]) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^KAFKA_JOBS_PASSWORD: .*CDC_ENABLED/);
    }
    expect(loadJobsConfig({ ...base, KAFKA_JOBS_PASSWORD: secret('jobs') }).KAFKA).toEqual({
      brokers: ['127.0.0.1:9092'],
      sasl: { mechanism: 'scram-sha-512', username: 'jobs', password: secret('jobs') },
    });
  });

  test('a password that is set is still checked, CDC on or off', () => {
    expect(problemsOf({ ...base, CDC_ENABLED: 'false', KAFKA_JOBS_PASSWORD: 'short' }).some((p) => p.startsWith('KAFKA_JOBS_PASSWORD: must be at least 16'))).toBe(true);
  });
});
