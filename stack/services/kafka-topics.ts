import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { paths } from '../../tools/kit/paths.ts';

/** The connector whose tables decide the change topics (the same file kafka-connect.ts registers). */
export const CRM_CONNECTOR_FILE = join(paths.config, 'debezium', 'crm-connector.json');

/**
 * The topics Debezium writes for the connector's table.include.list (`<topic.prefix>.<schema>.<table>`)
 * plus jobs' dead-letter topic. The stack (admin) creates them, so no client needs CREATE on them:
 * jobs, which reads them, could otherwise pre-create one with hostile settings (retention.ms=1).
 */
export function cdcTopics(connector: Record<string, unknown>, dlqTopic: string): string[] {
  const prefix = connector['topic.prefix'];
  const tables = connector['table.include.list'];
  if (typeof prefix !== 'string' || !prefix) throw new Error('crm-connector.json: topic.prefix is missing');
  if (typeof tables !== 'string' || !tables.trim()) throw new Error('crm-connector.json: table.include.list is missing');
  const names = tables.split(',').map((table) => table.trim());
  const bad = names.filter((table) => !/^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$/.test(table));
  // A regex entry (Debezium allows them) names no fixed topic to create.
  if (bad.length > 0) throw new Error(`crm-connector.json: table.include.list entries must be plain schema.table names, not ${bad.join(', ')}`);
  return [...names.map((table) => `${prefix}.${table}`), dlqTopic];
}

export function crmCdcTopics(dlqTopic: string): string[] {
  return cdcTopics(JSON.parse(readFileSync(CRM_CONNECTOR_FILE, 'utf8')) as Record<string, unknown>, dlqTopic);
}

/**
 * Creates the missing ones of `topics` as the admin, with what Debezium's topic.creation.default
 * would give them on this one-broker stack (1 partition, replication 1) and the broker's defaults
 * otherwise. Existing topics are left as they are. Returns the created names.
 */
export async function ensureTopics(admin: Admin, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length > 0) await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: true });
  return missing;
}
