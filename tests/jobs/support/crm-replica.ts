import type { ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';

/** A prosthesis owner as the CRM replica in ClickHouse holds them (what the ETL joins). */
export interface ReplicaOwner {
  chipId: string;
  prosthesisId: string;
  customerId: string;
  modelId: string;
  /** The owner's key in the mart: written as the customer's owner_ref (ClickHouse migration 011). */
  username: string;
  region: 'ru' | 'eu';
  modelName: string;
}

/**
 * Writes customers, models and prostheses straight into a scratch database's crm_* tables, as the
 * CDC consumer would have (ETL tests need dimensions, not the replication path, which the CDC
 * tests cover).
 */
export async function seedReplica(client: ClickHouseClient, owners: ReadonlyArray<Omit<ReplicaOwner, 'prosthesisId' | 'customerId' | 'modelId'>>, version = 1): Promise<ReplicaOwner[]> {
  const now = Math.floor(Date.now() / 1000);
  const seeded = owners.map((o) => ({ ...o, prosthesisId: randomUUID(), customerId: randomUUID(), modelId: randomUUID() }));
  const common = { created_at: now, updated_at: now, _version: version, _deleted: 0, _synced_at: now };
  await client.insert({
    table: 'crm_customers',
    format: 'JSONEachRow',
    values: seeded.map((o) => ({ id: o.customerId, owner_ref: o.username, region: o.region, ...common })),
  });
  await client.insert({
    table: 'crm_prosthesis_models',
    format: 'JSONEachRow',
    values: seeded.map((o) => ({ id: o.modelId, name: o.modelName, manufacturer: 'BionicPRO', kind: 'hand', actuator_count: 6, battery_capacity_mah: 2400, weight_g: 480, ...common })),
  });
  await client.insert({
    table: 'crm_prostheses',
    format: 'JSONEachRow',
    values: seeded.map((o) => ({ id: o.prosthesisId, chip_id: o.chipId, customer_id: o.customerId, model_id: o.modelId, serial_number: `SN-${o.chipId}`, fitted_at: now, status: 'active', ...common })),
  });
  return seeded;
}
