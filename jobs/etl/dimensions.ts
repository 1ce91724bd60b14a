import type { ClickHouseClient } from '@clickhouse/client';
import { chSql, chTuple, chUuid, type ChFragment } from '../../db/clickhouse/sql.ts';
import type { HourlyAggregate } from './hourly-aggregates.ts';
import { lookupAssignmentHistories, ownerAt, type Assignment } from './owner-spans.ts';

/** An owner of the chip's prosthesis, from `validFromMs` on (until the next one's). */
export interface ChipOwner {
  validFromMs: number;
  /** The owner's report owner ref (pseudonymous, CRM migration 003): the mart's and the reports' user key. */
  userId: string;
  region: string;
}

/** Who owned a chip when, and what it is, from the CRM replica in ClickHouse. */
export interface ChipDimensions {
  chipId: string;
  prosthesisId: string;
  modelName: string;
  /**
   * The prosthesis's owners in valid_from order (at least one), from the replicated assignment
   * history (owner-spans.ts); a prosthesis whose history is not replicated has its current
   * customer as the one owner, since ever.
   */
  owners: ChipOwner[];
}

/** The owner of an aggregate: the owner at its first instant (an hour, or the part of one a reassignment cut off). */
export function ownerOfAggregate(dims: ChipDimensions, aggregate: Pick<HourlyAggregate, 'fromMs'>): ChipOwner {
  return ownerAt(dims.owners, aggregate.fromMs);
}

/**
 * The three lookups, exported so tests can run the exact SQL on a current engine (chdb). The id
 * filter of the first looks at every version that ever carried the chip, and argMax then decides
 * on the row's newest version: a prosthesis whose chip changed no longer matches.
 */
export const dimensionQueries = {
  prostheses: (chipIds: readonly string[]): ChFragment => {
    const chips = chTuple([...chipIds]);
    return chSql`SELECT id, cur_chip_id AS chip_id, cur_customer_id AS customer_id, cur_model_id AS model_id, version FROM (
            SELECT id, argMax(chip_id, _version) AS cur_chip_id, argMax(customer_id, _version) AS cur_customer_id,
                   argMax(model_id, _version) AS cur_model_id, argMax(_deleted, _version) AS cur_deleted, max(_version) AS version
            FROM crm_prostheses
            WHERE id IN (SELECT id FROM crm_prostheses WHERE chip_id IN ${chips})
            GROUP BY id)
          WHERE cur_deleted = 0 AND cur_chip_id IN ${chips}`;
  },
  customers: (ids: readonly string[]): ChFragment =>
    chSql`SELECT id, cur_owner_ref AS owner_ref, cur_region AS region FROM (
            SELECT id, argMax(owner_ref, _version) AS cur_owner_ref, argMax(region, _version) AS cur_region, argMax(_deleted, _version) AS cur_deleted
            FROM crm_customers WHERE id IN ${chTuple(ids.map(chUuid))} GROUP BY id)
          WHERE cur_deleted = 0 AND cur_owner_ref != ''`,
  models: (ids: readonly string[]): ChFragment =>
    chSql`SELECT id, cur_name AS name FROM (
            SELECT id, argMax(name, _version) AS cur_name, argMax(_deleted, _version) AS cur_deleted
            FROM crm_prosthesis_models WHERE id IN ${chTuple(ids.map(chUuid))} GROUP BY id)
          WHERE cur_deleted = 0`,
};

async function rows<T>(client: ClickHouseClient, query: { text: string }): Promise<T[]> {
  const result = await client.query({ query: query.text, format: 'JSONEachRow' });
  return result.json<T>();
}

/**
 * Current, non-deleted CRM state for the chips: the newest version of each row (argMax by
 * _version, which is correct before ReplacingMergeTree has merged), with the prosthesis's owners
 * over time. Small keyed lookups joined here rather than one SQL join, because 18.16 allows one
 * JOIN per SELECT and these lookups only ever cover one batch's chips. Chips without a live
 * prosthesis or model, or with an owner the replica does not know, are absent from the result.
 */
export async function lookupChipDimensions(client: ClickHouseClient, chipIds: readonly string[]): Promise<Map<string, ChipDimensions>> {
  const found = new Map<string, ChipDimensions>();
  if (chipIds.length === 0) return found;
  const prostheses = await rows<{ id: string; chip_id: string; customer_id: string; model_id: string; version: string }>(client, dimensionQueries.prostheses(chipIds));
  if (prostheses.length === 0) return found;

  const histories = await lookupAssignmentHistories(client, [...new Set(prostheses.map((p) => p.id))]);
  const historyOf = (p: { id: string; customer_id: string }): Assignment[] => histories.get(p.id) ?? [{ customerId: p.customer_id, validFromMs: 0 }];
  const customerIds = [...new Set(prostheses.flatMap((p) => historyOf(p).map((a) => a.customerId)))];
  const modelIds = [...new Set(prostheses.map((p) => p.model_id))];
  const [customers, models] = await Promise.all([
    rows<{ id: string; owner_ref: string; region: string }>(client, dimensionQueries.customers(customerIds)),
    rows<{ id: string; name: string }>(client, dimensionQueries.models(modelIds)),
  ]);
  const customerById = new Map(customers.map((c) => [c.id, c]));
  const modelById = new Map(models.map((m) => [m.id, m]));

  // chip_id is unique in the CRM, but a reassigned chip can briefly show on two rows in the
  // replica (old row's delete not applied yet): the newest version wins.
  const newestFirst = [...prostheses].sort((a, b) => (BigInt(b.version) > BigInt(a.version) ? 1 : BigInt(b.version) < BigInt(a.version) ? -1 : 0));
  for (const p of newestFirst) {
    if (found.has(p.chip_id)) continue;
    const model = modelById.get(p.model_id);
    // Every owner must be known: an hour given to the wrong one would have to be moved later.
    const owners = historyOf(p).map((a) => ({ a, customer: customerById.get(a.customerId) }));
    if (!model || owners.some((o) => !o.customer)) continue;
    found.set(p.chip_id, {
      chipId: p.chip_id,
      prosthesisId: p.id,
      modelName: model.name,
      owners: owners.map(({ a, customer }) => ({ validFromMs: a.validFromMs, userId: customer!.owner_ref, region: customer!.region })),
    });
  }
  return found;
}
