import type { StackService } from './service.ts';

/**
 * The native stack in start order. Each module owns one service: how it is installed on Debian,
 * started on loopback, probed at the protocol level and provisioned.
 */
export async function loadServices(): Promise<StackService[]> {
  const modules = await Promise.all([
    import('./postgres.ts'),
    import('./redis.ts'),
    import('./clickhouse.ts'),
    import('./s3.ts'),
    import('./kafka.ts'),
    import('./kafka-connect.ts'),
    import('./ldap.ts'),
    import('./keycloak.ts'),
    // further services register here
  ]);
  return modules.flatMap((module) => module.services);
}
