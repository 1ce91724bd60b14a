import type { ClickHouseClient } from '@clickhouse/client';
import { chInt, chSql, chTuple, chUuid, type ChFragment } from '../../db/clickhouse/sql.ts';
import { reassignedChipsQuery } from './reassigned-hours.ts';

/**
 * Who owned a prosthesis when (issue 11): the replicated assignment history
 * (crm_prosthesis_assignments) decides the owner of every event by its own time. An hour that a
 * reassignment cuts in two is split at the reassignment's instant (hourly-aggregates.ts keeps
 * segments of an hour apart), so each owner's report holds exactly the events of their time; the
 * mart key (user, hour, prosthesis) lets both owners have a row for that hour.
 */

const HOUR_MS = 3_600_000;

/** One assignment: from `validFromMs` on the prosthesis belongs to `customerId`. */
export interface Assignment {
  customerId: string;
  validFromMs: number;
}

/**
 * The owner at `ms`: the assignment with the greatest valid_from at or before it. Telemetry from
 * before the first assignment (a device sending before its registration was entered) belongs to
 * the first owner. `history` is in valid_from order and not empty.
 */
export function ownerAt<T extends { validFromMs: number }>(history: readonly T[], ms: number): T {
  let owner = history[0]!;
  for (const entry of history) {
    if (entry.validFromMs <= ms) owner = entry;
    else break;
  }
  return owner;
}

/**
 * Where the hour starting at `hourStartMs` is cut: each instant inside it at which the owner
 * changes. If an owner would hold two separate parts of the hour (A → B → A within it), the hour
 * is not cut and the owner at its start takes it all: one (user, hour, prosthesis) row cannot hold
 * two parts, and merging them would need the hour's raw values again (the 95th percentile does not
 * add up). Rare enough (two reassignments inside one hour) to accept.
 */
export function hourCuts(history: readonly Assignment[], hourStartMs: number): number[] {
  const endMs = hourStartMs + HOUR_MS;
  const instants = [...new Set(history.map((a) => a.validFromMs).filter((ms) => ms > hourStartMs && ms < endMs))].sort((a, b) => a - b);
  let owner = ownerAt(history, hourStartMs).customerId;
  const owners = [owner];
  const cuts: number[] = [];
  for (const ms of instants) {
    const next = ownerAt(history, ms).customerId;
    if (next === owner) continue;
    cuts.push(ms);
    owners.push(next);
    owner = next;
  }
  return new Set(owners).size === owners.length ? cuts : [];
}

/** The queries, exported so tests can run the exact SQL on a current engine (chdb). */
export const ownerSpanQueries = {
  /**
   * Live assignments of the prostheses, in valid_from order (id breaks ties: the later row wins in
   * ownerAt). The id filter looks at every version that ever named the prosthesis, and argMax then
   * decides on the row's newest version: a delete (whose row has a zero prosthesis id) hides it.
   */
  histories: (prosthesisIds: readonly string[]): ChFragment => {
    const ids = chTuple(prosthesisIds.map(chUuid));
    return chSql`SELECT id, toString(cur_prosthesis_id) AS prosthesis_id, toString(cur_customer_id) AS customer_id, cur_valid_from_ms AS valid_from_ms FROM (
            SELECT id, argMax(prosthesis_id, _version) AS cur_prosthesis_id, argMax(customer_id, _version) AS cur_customer_id,
                   argMax(valid_from_ms, _version) AS cur_valid_from_ms, argMax(_deleted, _version) AS cur_deleted
            FROM crm_prosthesis_assignments
            WHERE id IN (SELECT id FROM crm_prosthesis_assignments WHERE prosthesis_id IN ${ids})
            GROUP BY id)
          WHERE cur_deleted = 0 AND cur_prosthesis_id IN ${ids}
          ORDER BY prosthesis_id, valid_from_ms, id`;
  },
  /** Prostheses with an assignment starting strictly inside [fromMs, toMs) and not on an hour boundary. */
  cutWithin: (fromMs: number, toMs: number): ChFragment =>
    chSql`SELECT DISTINCT toString(cur_prosthesis_id) AS prosthesis_id FROM (
            SELECT id, argMax(prosthesis_id, _version) AS cur_prosthesis_id, argMax(valid_from_ms, _version) AS cur_valid_from_ms,
                   argMax(_deleted, _version) AS cur_deleted
            FROM crm_prosthesis_assignments
            WHERE id IN (SELECT id FROM crm_prosthesis_assignments WHERE valid_from_ms > ${chInt(fromMs)} AND valid_from_ms < ${chInt(toMs)})
            GROUP BY id)
          WHERE cur_deleted = 0 AND cur_valid_from_ms > ${chInt(fromMs)} AND cur_valid_from_ms < ${chInt(toMs)} AND cur_valid_from_ms % 3600000 != 0`,
};

async function rows<T>(client: ClickHouseClient, query: ChFragment): Promise<T[]> {
  const result = await client.query({ query: query.text, format: 'JSONEachRow' });
  return result.json<T>();
}

/** Assignment histories of the prostheses (those without a replicated history are absent). */
export async function lookupAssignmentHistories(client: ClickHouseClient, prosthesisIds: readonly string[]): Promise<Map<string, Assignment[]>> {
  const histories = new Map<string, Assignment[]>();
  if (prosthesisIds.length === 0) return histories;
  const found = await rows<{ prosthesis_id: string; customer_id: string; valid_from_ms: string | number }>(client, ownerSpanQueries.histories(prosthesisIds));
  for (const row of found) {
    const list = histories.get(row.prosthesis_id) ?? [];
    list.push({ customerId: row.customer_id, validFromMs: Number(row.valid_from_ms) });
    histories.set(row.prosthesis_id, list);
  }
  return histories;
}

/** A cut of one chip's hour at `atMs` (the owner changes there). */
export interface HourCut {
  chipId: string;
  atMs: number;
}

/**
 * Every cut inside the hours [fromMs, toMs) of every chip, from the assignments that start inside
 * that range: a few rows however wide the range, since reassignments are rare. The caller applies
 * the cuts that fall into hours it recomputes.
 */
export async function lookupHourCuts(client: ClickHouseClient, fromMs: number, toMs: number): Promise<HourCut[]> {
  const prostheses = (await rows<{ prosthesis_id: string }>(client, ownerSpanQueries.cutWithin(fromMs, toMs))).map((row) => row.prosthesis_id);
  if (prostheses.length === 0) return [];
  const [histories, chips] = await Promise.all([
    lookupAssignmentHistories(client, prostheses),
    rows<{ id: string; chip_id: string }>(client, reassignedChipsQuery(prostheses)),
  ]);
  const cuts: HourCut[] = [];
  for (const { id, chip_id } of chips) {
    const history = histories.get(id);
    if (!history) continue;
    const hours = new Set(history.filter((a) => a.validFromMs > fromMs && a.validFromMs < toMs).map((a) => Math.floor(a.validFromMs / HOUR_MS) * HOUR_MS));
    for (const hour of hours) for (const atMs of hourCuts(history, hour)) cuts.push({ chipId: chip_id, atMs });
  }
  return cuts;
}
