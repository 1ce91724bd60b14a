import type { ClickHouseClient } from '@clickhouse/client';
import { chDateTime, chInt, chSql, chTuple, chUuid, type ChFragment } from '../../db/clickhouse/sql.ts';
import { zeroMartRow, type MartRow } from './mart-rows.ts';

/**
 * Live mart rows of the prostheses in the given hours that a run with `version` did not write:
 * the rows of owners who no longer hold (that part of) the hour. The filter is the cross product
 * of both lists; the caller keeps the (prosthesis, hour) pairs it recomputed. Owner refs only: a
 * row still keyed by username (visible while ClickHouse migration 011's async mutation rewrites the
 * mart) re-emitted here would write that username again, and invalidating it would fail in core.
 * Exported so tests can run the exact SQL on a current engine (chdb).
 */
export function staleRowsQuery(prosthesisIds: readonly string[], hourSeconds: readonly number[], version: number): ChFragment {
  return chSql`SELECT user_id AS uid, toString(prosthesis_id) AS pid, toUnixTimestamp(hour) AS h,
                 argMax(chip_id, _version) AS chip, argMax(model_name, _version) AS model, argMax(region, _version) AS reg
          FROM report_hourly
          WHERE prosthesis_id IN ${chTuple(prosthesisIds.map(chUuid))} AND hour IN ${chTuple(hourSeconds.map((s) => chDateTime(new Date(s * 1000))))}
            AND match(user_id, '^[a-z2-7]{32}$')
          GROUP BY user_id, prosthesis_id, hour
          HAVING max(_version) < ${chInt(version)} AND argMax(event_count, _version) > 0`;
}

/** (prosthesis, hour) pairs per query when looking for rows to retire (keeps the IN lists short). */
const PAIRS_PER_QUERY = 1_000;

interface StaleRow {
  uid: string;
  pid: string;
  h: string | number;
  chip: string;
  model: string;
  reg: string;
}

/**
 * Writes an emptied row (no events, newer version) over every live row of these prostheses' hours
 * that this run did not write: after a reassignment the hour belongs, wholly or in part, to someone
 * else, and the previous owner's row must disappear from their reports (readers drop rows whose
 * newest version has no events). Only prostheses that ever had two owners are passed here: a chip
 * with a single owner rewrites its one row per hour. Returns the rows retired.
 */
export async function retireMovedRows(client: ClickHouseClient, hoursByProsthesis: ReadonlyMap<string, ReadonlySet<number>>, version: number): Promise<MartRow[]> {
  const retired: MartRow[] = [];
  // Pairs in chunks: one query per chunk however many prostheses share it, so a run touching the
  // current hour of many once-reassigned prostheses sends a few queries, not one per prosthesis.
  const pairs = [...hoursByProsthesis].flatMap(([pid, hours]) => [...hours].map((hour) => ({ pid, hour })));
  for (let i = 0; i < pairs.length; i += PAIRS_PER_QUERY) {
    const chunk = pairs.slice(i, i + PAIRS_PER_QUERY);
    const wanted = new Set(chunk.map((p) => `${p.pid}@${p.hour}`));
    const query = staleRowsQuery([...new Set(chunk.map((p) => p.pid))], [...new Set(chunk.map((p) => p.hour))], version);
    const stale = await (await client.query({ query: query.text, format: 'JSONEachRow' })).json<StaleRow>();
    const emptied: MartRow[] = [];
    for (const row of stale) {
      if (!wanted.has(`${row.pid}@${Number(row.h)}`)) continue;
      emptied.push(zeroMartRow({ userId: row.uid, prosthesisId: row.pid, chipId: row.chip, modelName: row.model, region: row.reg, hourSeconds: Number(row.h) }, version));
    }
    // Per chunk, so one insert stays as small as one query's answer.
    if (emptied.length > 0) await client.insert({ table: 'report_hourly', values: emptied, format: 'JSONEachRow' });
    retired.push(...emptied);
  }
  return retired;
}
