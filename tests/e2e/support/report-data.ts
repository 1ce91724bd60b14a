import { randomUUID } from 'node:crypto';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../../db/clickhouse/client.ts';
import { chSql, chTuple } from '../../../db/clickhouse/sql.ts';
import { createOwnerRefs } from '../../../common/identity/owner-ref.ts';
import type { Region } from '../../../demo/people.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';

/**
 * Deterministic report data for one test person, written straight into the ClickHouse mart
 * (`reports.report_hourly`, the rows the ETL would produce), plus the figures the app must then
 * show. Removal deletes the rows and the cached report objects (S3 and CDN, through core's
 * invalidation endpoint with the jobs service account).
 */

export interface SeededDay {
  date: string;
  movements: number;
  successful: number;
  errors: number;
  /** The hour (0–23 UTC) with the most movements. */
  busiestHour: number;
  hours: Array<{ hour: number; movements: number; successful: number; errors: number; avgResponseMs: number; avgBatteryPct: number }>;
}

export interface SeededReports {
  /** The person's username (LDAP uid). */
  userId: string;
  /** Their report owner ref: the mart's, S3's and the CDN URLs' owner key (common/identity/owner-ref.ts). */
  ownerRef: string;
  model: string;
  chipId: string;
  days: SeededDay[];
  totals: { activeDays: number; movements: number; successful: number; errors: number; successRatePct: number };
}

function utcDay(offsetDays: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - offsetDays)).toISOString().slice(0, 10);
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** A plausible day: active 07:00–21:00, a morning and an evening peak; `salt` varies people and days. */
function dayShape(salt: number) {
  const hours: SeededDay['hours'] = [];
  for (let hour = 7; hour <= 21; hour++) {
    const peak = Math.round(60 * Math.exp(-((hour - 9) ** 2) / 6) + 45 * Math.exp(-((hour - 18) ** 2) / 5));
    const movements = 20 + peak + ((hour * 7 + salt * 13) % 17);
    const errors = hour % 5 === salt % 5 ? 1 + ((hour + salt) % 3) : 0;
    const successful = movements - errors - ((hour + salt) % 4);
    hours.push({ hour, movements, successful, errors, avgResponseMs: 85 + ((hour * 11 + salt * 5) % 60), avgBatteryPct: Math.max(15, 96 - (hour - 7) * 5 - (salt % 4)) });
  }
  return hours;
}

/** A username's owner ref, with the stack's key (the one core holds). */
export async function ownerRefOf(env: StackEnv, username: string): Promise<string> {
  return (await createOwnerRefs(env.OWNER_REF_KEY!)).of(username);
}

export async function seedReports(env: StackEnv, options: { userId: string; region: Region; model: string; salt: number; dayOffsets?: number[] }): Promise<SeededReports> {
  const ownerRef = await ownerRefOf(env, options.userId);
  const prosthesisId = randomUUID();
  const chipId = `E2E-${options.userId.slice(-8).toUpperCase()}`;
  const offsets = options.dayOffsets ?? [1, 2, 4];
  const days: SeededDay[] = offsets.map((offset, index) => {
    const hours = dayShape(options.salt + index);
    const busiest = hours.reduce((best, h) => (h.movements > best.movements ? h : best));
    return {
      date: utcDay(offset),
      movements: hours.reduce((sum, h) => sum + h.movements, 0),
      successful: hours.reduce((sum, h) => sum + h.successful, 0),
      errors: hours.reduce((sum, h) => sum + h.errors, 0),
      busiestHour: busiest.hour,
      hours,
    };
  });

  const rows = days.flatMap((day) =>
    day.hours.map((h) => {
      const samples = 12;
      return {
        user_id: ownerRef,
        prosthesis_id: prosthesisId,
        chip_id: chipId,
        model_name: options.model,
        region: options.region,
        hour: `${day.date} ${String(h.hour).padStart(2, '0')}:00:00`,
        event_count: samples,
        movements: h.movements,
        successful_movements: h.successful,
        response_time_sum_ms: h.avgResponseMs * samples,
        response_time_count: samples,
        response_time_max_ms: h.avgResponseMs + 40,
        response_time_p95_ms: h.avgResponseMs + 25,
        battery_min_pct: h.avgBatteryPct - 4 - (h.hour % 3) * 2,
        battery_max_pct: h.avgBatteryPct + 2,
        battery_sum_pct: h.avgBatteryPct * samples,
        actuator_temp_max_c: 38,
        actuator_temp_sum_c: 36 * samples,
        errors_total: h.errors,
        error_codes: h.errors > 0 ? [h.hour % 2 === 0 ? 'E_GRIP_SLIP' : 'E_SENSOR_NOISE'] : [],
        error_counts: h.errors > 0 ? [h.errors] : [],
        active_minutes: 35 + (h.hour % 20),
        charging_minutes: h.hour >= 21 ? 30 : 0,
        _version: 1,
      };
    }),
  );

  const client = createClickHouseClient(clickHouseConfigFromEnv(env));
  try {
    await client.insert({ table: 'report_hourly', format: 'JSONEachRow', values: rows });
  } finally {
    await client.close();
  }

  const movements = days.reduce((sum, d) => sum + d.movements, 0);
  const successful = days.reduce((sum, d) => sum + d.successful, 0);
  return {
    userId: options.userId,
    ownerRef,
    model: options.model,
    chipId,
    days: [...days].sort((a, b) => b.date.localeCompare(a.date)),
    totals: { activeDays: days.length, movements, successful, errors: days.reduce((sum, d) => sum + d.errors, 0), successRatePct: round2((successful / movements) * 100) },
  };
}

async function serviceToken(env: StackEnv): Promise<string> {
  const response = await fetch(`${env.KEYCLOAK_URL}/realms/${env.KEYCLOAK_REALM}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'reports-jobs', client_secret: env.JOBS_CLIENT_SECRET! }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) throw new Error(`reports-jobs client credentials answered ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Deletes the users' mart rows and cached report objects (given their usernames). */
export async function removeReports(env: StackEnv, usernames: string[]): Promise<void> {
  if (usernames.length === 0) return;
  const userIds = await Promise.all(usernames.map((username) => ownerRefOf(env, username)));
  const client = createClickHouseClient(clickHouseConfigFromEnv(env));
  try {
    // A mutation (asynchronous in ClickHouse); every test person has a uid of its own.
    await client.command({ query: chSql`ALTER TABLE report_hourly DELETE WHERE user_id IN ${chTuple(userIds)}`.text });
  } finally {
    await client.close();
  }
  const response = await fetch(`${env.CORE_URL}/api/reports/invalidate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await serviceToken(env)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_ids: userIds }),
    signal: AbortSignal.timeout(15_000),
  });
  if (response.status !== 200) throw new Error(`invalidating ${userIds.join(', ')} answered ${response.status}: ${await response.text()}`);
}
