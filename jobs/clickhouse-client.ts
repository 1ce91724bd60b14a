import type { ClickHouseClient } from '@clickhouse/client';
import { createClient as createFetchClient } from '@clickhouse/client-web';
import { createClickHouseClient, type ClickHouseConfig } from '../db/clickhouse/client.ts';

/**
 * How jobs talks HTTP to ClickHouse: `node` (@clickhouse/client over node:http) under Node, `fetch`
 * (@clickhouse/client-web, same vendor and API) under Bun, whose node:http emulation occasionally
 * loses a response of the node client for good (docs/core.md; a CDC test here hung on one too).
 * The entry file picks; everything else sees one client type.
 */
export type ClickHouseTransport = 'node' | 'fetch';

export function defaultTransport(): ClickHouseTransport {
  return typeof process !== 'undefined' && process.versions?.bun ? 'fetch' : 'node';
}

export function createJobsClickHouseClient(config: ClickHouseConfig, transport: ClickHouseTransport): ClickHouseClient {
  if (transport === 'node') return createClickHouseClient(config);
  // The web client has the same query/insert/command/close API (both wrap @clickhouse/client-common);
  // jobs passes inserts as arrays, which both accept.
  return createFetchClient({
    url: config.url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs ?? 60_000,
    application: config.application ?? 'bionicpro',
  }) as unknown as ClickHouseClient;
}
