import { describe, expect, test } from 'bun:test';
import kafkajs from 'kafkajs';
import { cdcTopics as jobsCdcTopics } from '../../jobs/cdc/tables.ts';
import { DEFAULT_ACL_NAMES, desiredKafkaAcls } from '../../stack/services/kafka-acls.ts';
import { cdcTopics, crmCdcTopics } from '../../stack/services/kafka-topics.ts';

/**
 * Review finding: jobs held CREATE on the crm.crm. prefix (and the DLQ), so it could pre-create a
 * change topic with hostile settings (retention.ms=1). The stack creates those topics as the admin
 * (kafka-topics.ts, at provision) and jobs keeps only READ/DESCRIBE on them and WRITE/DESCRIBE on the DLQ.
 */
describe('CDC topics are the stack\'s to create', () => {
  test('jobs holds no CREATE on any topic', () => {
    const acls = desiredKafkaAcls({ ...DEFAULT_ACL_NAMES, connectUser: 'connect', jobsUser: 'jobs' });
    const jobs = acls.filter((acl) => acl.principal === 'User:jobs');
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.filter((acl) => acl.operation === kafkajs.AclOperationTypes.CREATE)).toEqual([]);
  });

  test('the topics come from the connector\'s table.include.list and cover every topic the jobs consumer subscribes to', () => {
    const topics = crmCdcTopics(DEFAULT_ACL_NAMES.dlqTopic);
    expect(topics).toContain('crm.crm.customers');
    expect(topics).toContain(DEFAULT_ACL_NAMES.dlqTopic);
    for (const topic of topics.filter((t) => t !== DEFAULT_ACL_NAMES.dlqTopic)) expect(topic.startsWith(DEFAULT_ACL_NAMES.cdcTopicPrefix)).toBe(true);
    // jobs cannot create a missing one any more: whatever it reads must be on this list.
    for (const topic of jobsCdcTopics('crm')) expect(topics).toContain(topic);
  });

  test('a connector config without fixed table names is refused with a clear error', () => {
    expect(() => cdcTopics({ 'topic.prefix': 'crm' }, 'dlq')).toThrow(/table.include.list is missing/);
    expect(() => cdcTopics({ 'table.include.list': 'crm.a' }, 'dlq')).toThrow(/topic.prefix is missing/);
    expect(() => cdcTopics({ 'topic.prefix': 'crm', 'table.include.list': 'crm.a, crm.orders_.*' }, 'dlq')).toThrow(/plain schema.table names/);
    expect(cdcTopics({ 'topic.prefix': 'p', 'table.include.list': 's.a, s.b' }, 'dlq')).toEqual(['p.s.a', 'p.s.b', 'dlq']);
  });
});
