import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { fixKafkajsNegativeTimeout } from './kafkajs-negative-timeout.ts';

export const KAFKA_SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/**
 * Where a Kafka client connects and who it is. The broker answers only SASL (SCRAM) on its client
 * listener and authorizes every request by ACL, so every client names its own principal: jobs as
 * `jobs`, the stack's tooling and the tests as `admin` (docs/stack-services.md, "Kafka").
 */
export interface KafkaClientSettings {
  brokers: readonly string[];
  /** `plain` only for the stack's one-time credential bootstrap (stack/services/kafka.ts); clients use SCRAM. */
  sasl: { mechanism: KafkaSaslMechanism | 'plain'; username: string; password: string };
}

/** kafkajs options other than where to connect and who to be (those come from the settings only). */
export type KafkaClientOptions = Omit<KafkaConfig, 'brokers' | 'sasl' | 'ssl'> & { clientId: string };

/** The single place a kafkajs client is built: SASL from the settings, and kafkajs's timer fix applied. */
export function createKafkaClient(settings: KafkaClientSettings, options: KafkaClientOptions): Kafka {
  fixKafkajsNegativeTimeout();
  if (settings.brokers.length === 0) throw new Error('Kafka client settings name no broker');
  const sasl: SASLOptions = { mechanism: settings.sasl.mechanism, username: settings.sasl.username, password: settings.sasl.password };
  return new Kafka({ ...options, brokers: [...settings.brokers], sasl });
}
