import { Kafka, logLevel, type Admin } from 'kafkajs';
import { chIdentifier, chSql } from '../../db/clickhouse/sql.ts';
import type { Logger } from '../../common/log.ts';
import type { ChRows } from '../clickhouse-rows.ts';
import { withTimeout } from '../dependency.ts';
import { isoHour, num } from '../reports/figures.ts';

export interface CdcTableState {
  table: string;
  live_rows: number;
  deleted_rows: number;
  /** Newest source-side updated_at among the replicated rows. */
  last_source_change_at: string | null;
  /** When the consumer last applied a change to this table. */
  last_applied_at: string | null;
}

export interface PartitionLag {
  partition: number;
  committed: number | null;
  end: number;
  lag: number;
}

export interface TopicLag {
  topic: string;
  lag: number | null;
  partitions: PartitionLag[];
  error?: string;
}

export interface ConnectorState {
  name: string;
  state: string;
  tasks: Array<{ id: number; state: string }>;
}

export interface CdcInspector {
  tables(): Promise<CdcTableState[]>;
  consumerLag(): Promise<TopicLag[]>;
  connectors(): Promise<ConnectorState[]>;
}

export const CDC_TABLES = ['crm_customers', 'crm_prosthesis_models', 'crm_prostheses', 'crm_orders'] as const;

const isoOrNull = (seconds: unknown) => (num(seconds) > 0 ? isoHour(num(seconds)) : null);

export function createCdcInspector(options: {
  rows: ChRows;
  brokers: string[];
  consumerGroup: string;
  topics: string[];
  connectUrl: string;
  timeoutMs: number;
  logger: Logger;
}): CdcInspector {
  // kafkajs logs through our logger, at warn and above only (its info lines are per connection).
  const kafka = new Kafka({
    clientId: 'reports-core-health',
    brokers: options.brokers,
    connectionTimeout: options.timeoutMs,
    requestTimeout: options.timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => options.logger.warn('kafka.client', { namespace: entry.namespace, message: entry.log.message }),
  });

  async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), options.timeoutMs, 'kafka connect');
      return await withTimeout(work(admin), options.timeoutMs * 2, 'kafka admin');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  return {
    async tables() {
      return Promise.all(
        CDC_TABLES.map(async (table) => {
          const [row] = await options.rows<Record<string, string | number>>(chSql`
            SELECT countIf(_deleted = 0) AS live_rows,
                   countIf(_deleted = 1) AS deleted_rows,
                   toUnixTimestamp(max(updated_at)) AS last_change,
                   toUnixTimestamp(max(_synced_at)) AS last_applied
            FROM ${chIdentifier(table)} FINAL`);
          return {
            table,
            live_rows: num(row?.live_rows),
            deleted_rows: num(row?.deleted_rows),
            last_source_change_at: isoOrNull(row?.last_change),
            last_applied_at: isoOrNull(row?.last_applied),
          };
        }),
      );
    },

    async consumerLag() {
      return withAdmin(async (admin) => {
        // Asking for offsets of a topic that does not exist yet derails kafkajs's metadata; list first.
        const existing = new Set(await admin.listTopics());
        const present = options.topics.filter((topic) => existing.has(topic));
        const committed = present.length ? await admin.fetchOffsets({ groupId: options.consumerGroup, topics: present }) : [];
        const committedByTopic = new Map(committed.map((entry) => [entry.topic, new Map(entry.partitions.map((p) => [p.partition, Number(p.offset)]))]));
        return Promise.all(
          options.topics.map(async (topic): Promise<TopicLag> => {
            if (!existing.has(topic)) return { topic, lag: null, partitions: [], error: 'topic does not exist (yet)' };
            try {
              const ends = await admin.fetchTopicOffsets(topic);
              const partitions = ends
                .map((end) => {
                  const offset = committedByTopic.get(topic)?.get(end.partition);
                  const hasCommit = offset !== undefined && offset >= 0;
                  // Without a commit the group has consumed nothing: everything retained is lag.
                  const lag = Math.max(0, Number(end.high) - (hasCommit ? offset : Number(end.low)));
                  return { partition: end.partition, committed: hasCommit ? offset : null, end: Number(end.high), lag };
                })
                .sort((a, b) => a.partition - b.partition);
              return { topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
            } catch (error) {
              return { topic, lag: null, partitions: [], error: error instanceof Error ? error.message : String(error) };
            }
          }),
        );
      });
    },

    async connectors() {
      const response = await fetch(`${options.connectUrl.replace(/\/$/, '')}/connectors?expand=status`, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!response.ok) throw new Error(`Kafka Connect answered ${response.status}`);
      const body = (await response.json()) as Record<string, { status?: { connector?: { state?: string }; tasks?: Array<{ id: number; state: string }> } }>;
      return Object.entries(body).map(([name, entry]) => ({
        name,
        state: entry.status?.connector?.state ?? 'UNKNOWN',
        tasks: (entry.status?.tasks ?? []).map((task) => ({ id: task.id, state: task.state })),
      }));
    },
  };
}
