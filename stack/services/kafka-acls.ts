import kafkajs, {
  type Admin,
  type AclEntry,
  type AclFilter,
  type AclOperationTypes as AclOperation,
  type AclResourceTypes as AclResource,
  type ResourcePatternTypes as ResourcePattern,
} from 'kafkajs';

// kafkajs is CommonJS and Node's ESM loader cannot see these enums as named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** What the ACLs are cut around: the connector's and the CDC consumer's names (defaults as in the configs). */
export interface KafkaAclNames {
  connectUser: string;
  jobsUser: string;
  /** Debezium's topic.prefix plus the captured schema: the change topics are `<prefix>.<schema>.<table>`. */
  cdcTopicPrefix: string;
  /** Debezium's heartbeat topic (`__debezium-heartbeat.<topic.prefix>`). */
  heartbeatTopic: string;
  /** The CDC consumer's dead-letter topic (jobs' CDC_DLQ_TOPIC). */
  dlqTopic: string;
  /** jobs' consumer groups: its CDC_CONSUMER_GROUP and the per-test groups named after it. */
  jobsGroupPrefix: string;
  /** The Connect worker's group.id and the prefix of its config/offset/status topics. */
  connectGroup: string;
  connectTopicPrefix: string;
}

export const DEFAULT_ACL_NAMES: Omit<KafkaAclNames, 'connectUser' | 'jobsUser'> = {
  cdcTopicPrefix: 'crm.crm.',
  heartbeatTopic: '__debezium-heartbeat.crm',
  dlqTopic: 'crm.dlq',
  jobsGroupPrefix: 'reports-cdc',
  connectGroup: 'bionicpro-connect',
  connectTopicPrefix: 'connect-',
};

/** One allow rule, in the terms of `kafka-acls`. */
export interface KafkaAcl {
  principal: string;
  resourceType: AclResource;
  resourceName: string;
  patternType: ResourcePattern;
  operation: AclOperation;
}

const { TOPIC, GROUP } = AclResourceTypes;
const { LITERAL, PREFIXED } = ResourcePatternTypes;
const { READ, WRITE, CREATE, DESCRIBE, DESCRIBE_CONFIGS } = AclOperationTypes;

function allow(principal: string, resourceType: AclResource, resourceName: string, patternType: ResourcePattern, operations: AclOperation[]): KafkaAcl[] {
  return operations.map((operation) => ({ principal, resourceType, resourceName, patternType, operation }));
}

/**
 * Least privilege per client (issue 9). Nothing here lets jobs write a change topic, so a forged CDC
 * event can come only from Debezium's principal; the admin principal is the broker's super user and
 * needs no ACL. Producers of Kafka 3+ are idempotent by default: WRITE on a topic implies the
 * IDEMPOTENT_WRITE they need (KIP-679), so no cluster-level grant is made.
 */
export function desiredKafkaAcls(names: KafkaAclNames): KafkaAcl[] {
  const connect = `User:${names.connectUser}`;
  const jobs = `User:${names.jobsUser}`;
  return [
    // Debezium's change events and heartbeats (topics are created on first write).
    ...allow(connect, TOPIC, names.cdcTopicPrefix, PREFIXED, [WRITE, CREATE, DESCRIBE]),
    ...allow(connect, TOPIC, names.heartbeatTopic, LITERAL, [WRITE, CREATE, DESCRIBE]),
    // The worker's own config/offset/status topics (it creates them and checks their cleanup policy) and its group.
    ...allow(connect, TOPIC, names.connectTopicPrefix, PREFIXED, [READ, WRITE, CREATE, DESCRIBE, DESCRIBE_CONFIGS]),
    ...allow(connect, GROUP, names.connectGroup, LITERAL, [READ, DESCRIBE]),
    // jobs reads the change topics and writes the DLQ, but creates neither: the stack (admin) creates
    // them at provision (kafka-topics.ts), so jobs cannot pre-create one with hostile settings.
    ...allow(jobs, TOPIC, names.cdcTopicPrefix, PREFIXED, [READ, DESCRIBE]),
    ...allow(jobs, TOPIC, names.dlqTopic, LITERAL, [WRITE, DESCRIBE]),
    ...allow(jobs, GROUP, names.jobsGroupPrefix, PREFIXED, [READ, DESCRIBE]),
  ];
}

function key(acl: KafkaAcl): string {
  return [acl.principal, acl.resourceType, acl.resourceName, acl.patternType, acl.operation].join('|');
}

/**
 * Makes the broker's allow rules for the managed principals exactly `desired`: missing ones are
 * created, any other rule naming those principals (a grant from an older version of this file) is
 * deleted. Rules of other principals are left alone. Returns what changed.
 */
export async function reconcileKafkaAcls(admin: Admin, desired: readonly KafkaAcl[]): Promise<{ created: number; deleted: number }> {
  const principals = [...new Set(desired.map((acl) => acl.principal))];
  const existing: KafkaAcl[] = [];
  for (const principal of principals) {
    const filter: AclFilter = {
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: '*',
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    };
    const { resources } = await admin.describeAcls(filter);
    for (const resource of resources) {
      for (const acl of resource.acls) {
        existing.push({ principal: acl.principal, resourceType: resource.resourceType, resourceName: resource.resourceName, patternType: resource.resourcePatternType, operation: acl.operation });
      }
    }
  }
  const wanted = new Set(desired.map(key));
  const present = new Set(existing.map(key));
  const missing = desired.filter((acl) => !present.has(key(acl)));
  const stale = existing.filter((acl) => !wanted.has(key(acl)));
  if (stale.length > 0) {
    // An exact entry is also a filter matching only itself.
    await admin.deleteAcls({ filters: stale.map(toEntry) });
  }
  if (missing.length > 0) await admin.createAcls({ acl: missing.map(toEntry) });
  return { created: missing.length, deleted: stale.length };
}

function toEntry(acl: KafkaAcl): AclEntry {
  return {
    resourceType: acl.resourceType,
    resourceName: acl.resourceName,
    resourcePatternType: acl.patternType,
    principal: acl.principal,
    host: '*',
    operation: acl.operation,
    permissionType: AclPermissionTypes.ALLOW,
  };
}
