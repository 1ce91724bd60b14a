import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildCrmDataset, chipIdFor } from '../../demo/crm-data.ts';
import { fingerprintPlan, parseGenerateArgs, planGeneration, type GenerateOptions } from '../../demo/generate.ts';
import { copyLine } from '../../demo/load-telemetry.ts';
import { PEOPLE } from '../../demo/people.ts';
import { Rng, uuidFromKey } from '../../demo/random.ts';
import { forEachTelemetryRow, utcOffsetHours, type TelemetryRow } from '../../demo/telemetry-data.ts';
import { ROOT } from '../../tools/kit/paths.ts';

const NOW = new Date('2025-02-01T12:00:00Z');

function options(overrides: Partial<GenerateOptions> = {}): GenerateOptions {
  return { ...parseGenerateArgs(['--end-date', '2025-01-20', '--days', '3'], NOW), ...overrides };
}

function rowsOf(o: GenerateOptions): TelemetryRow[] {
  const plan = planGeneration(o, NOW);
  const rows: TelemetryRow[] = [];
  forEachTelemetryRow({ seed: o.seed, eventsPerHour: o.eventsPerHour, chips: plan.chips, fromMs: plan.fromMs, toMs: plan.toMs, maxRows: plan.maxRows }, (r) => rows.push(r));
  return rows;
}

describe('determinism', () => {
  test('same seed → identical data; different seed → different data', () => {
    const a = fingerprintPlan(planGeneration(options(), NOW), options());
    const b = fingerprintPlan(planGeneration(options(), NOW), options());
    const c = fingerprintPlan(planGeneration(options({ seed: 43 }), NOW), options({ seed: 43 }));
    expect(a).toEqual(b);
    expect(a.telemetryRows).toBe(c.telemetryRows);
    expect(c.telemetry).not.toBe(a.telemetry);
    expect(c.crm).not.toBe(a.crm);
  });

  test('identical under Node and Bun (golden fingerprint computed with Node 24)', () => {
    // node demo/generate.ts --dry-run --end-date 2025-01-20  → crm 86c9b33412e4201e telemetry d78cd621af538388
    const o = parseGenerateArgs(['--end-date', '2025-01-20'], NOW);
    const fingerprint = fingerprintPlan(planGeneration(o, NOW), o);
    expect(fingerprint.crm.slice(0, 16)).toBe('86c9b33412e4201e');
    expect(fingerprint.telemetry.slice(0, 16)).toBe('d78cd621af538388');
    expect(fingerprint.telemetryRows).toBe(84_672);
  });

  test('a longer window reproduces the overlapping days exactly', () => {
    const short = rowsOf(options({ days: 2 })).map(copyLine);
    const long = new Set(rowsOf(options({ days: 5 })).map(copyLine));
    expect(short.length).toBeGreaterThan(0);
    for (const line of short) expect(long.has(line)).toBe(true);
  });

  test('the Rng is a fixed algorithm', () => {
    const rng = new Rng(1);
    const first = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
    expect(new Rng(1).nextUint32()).toBe(first[0]!);
    expect(new Set(first).size).toBe(3);
    expect(uuidFromKey('customer:ivan.petrov')).toBe(uuidFromKey('customer:ivan.petrov'));
    expect(uuidFromKey('customer:ivan.petrov')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('CRM dataset', () => {
  const data = buildCrmDataset({ seed: 42, customers: 30, before: new Date('2025-01-01T00:00:00Z') });
  const owners = PEOPLE.filter((p) => p.roles.includes('prothetic_user'));

  test('demo prosthesis owners come first with their uid, region, name and email', () => {
    expect(owners.length).toBeGreaterThan(0);
    for (const [i, person] of owners.entries()) {
      const customer = data.customers[i]!;
      expect([customer.username, customer.region, customer.email, customer.fullName, customer.isDemoPerson]).toEqual([person.uid, person.region, person.email, person.displayName, true]);
    }
    expect(data.customers).toHaveLength(30);
    expect(data.customers.slice(owners.length).every((c) => !c.isDemoPerson && c.username.startsWith('demo.customer.'))).toBe(true);
  });

  test('every demo owner has an active prosthesis; keys are unique and valid', () => {
    for (const person of owners) expect(data.prostheses.some((p) => p.customerUsername === person.uid && p.status === 'active')).toBe(true);
    const unique = <T>(xs: T[]) => new Set(xs).size === xs.length;
    expect(unique(data.customers.map((c) => c.username))).toBe(true);
    expect(unique(data.customers.map((c) => c.id))).toBe(true);
    expect(unique(data.prostheses.map((p) => p.chipId))).toBe(true);
    expect(unique(data.prostheses.map((p) => p.serialNumber))).toBe(true);
    expect(unique(data.orders.map((o) => o.id))).toBe(true);
    for (const c of data.customers) {
      expect(c.username).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(c.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    }
    for (const p of data.prostheses) {
      expect(p.chipId).toMatch(/^[A-Za-z0-9_-]{4,64}$/);
      expect(p.fittedAt.getTime()).toBeLessThan(new Date('2025-01-01T00:00:00Z').getTime());
    }
    for (const o of data.orders) {
      expect(o.amount).toMatch(/^\d+\.\d{2}$/);
      expect(o.currency).toBe(data.customers.find((c) => c.id === o.customerId)!.region === 'ru' ? 'RUB' : 'EUR');
    }
  });

  test('identity does not depend on the seed, attributes do', () => {
    const other = buildCrmDataset({ seed: 7, customers: 30, before: new Date('2025-01-01T00:00:00Z') });
    expect(other.customers.map((c) => c.id)).toEqual(data.customers.map((c) => c.id));
    expect(other.prostheses.map((p) => p.chipId)).toEqual(data.prostheses.map((p) => p.chipId));
    expect(other.orders.map((o) => o.id)).toEqual(data.orders.map((o) => o.id));
    expect(other.orders.map((o) => o.amount)).not.toEqual(data.orders.map((o) => o.amount));
    expect(chipIdFor('ru', 'ivan.petrov', 1)).toBe(data.prostheses.find((p) => p.customerUsername === 'ivan.petrov')!.chipId);
  });
});

describe('telemetry shape', () => {
  const o = options({ days: 7, customers: 20 });
  const plan = planGeneration(o, NOW);
  const rows = rowsOf(o);
  const regionOf = new Map(plan.chips.map((c) => [c.chipId, c.region]));
  const localHour = (r: TelemetryRow) => {
    const region = regionOf.get(r.chipId)!;
    const day = Math.floor(r.eventTimeMs / 86_400_000) * 86_400_000;
    return Math.floor((((r.eventTimeMs / 3_600_000 + utcOffsetHours(region, day)) % 24) + 24) % 24);
  };

  test('one event per chip per interval, inside the window, with unique ids', () => {
    expect(rows.length).toBe(plan.chips.length * 7 * 24 * o.eventsPerHour);
    expect(new Set(rows.map((r) => r.eventId)).size).toBe(rows.length);
    for (const r of rows) {
      expect(r.eventTimeMs).toBeGreaterThanOrEqual(plan.fromMs);
      expect(r.eventTimeMs).toBeLessThan(plan.toMs);
    }
  });

  test('values stay within what the schema allows', () => {
    for (const r of rows) {
      expect(r.batteryPct >= 0 && r.batteryPct <= 100 && Number.isInteger(r.batteryPct)).toBe(true);
      expect(r.successfulMovements >= 0 && r.successfulMovements <= r.movements).toBe(true);
      expect(r.responseTimeMs === null).toBe(r.movements === 0);
      if (r.responseTimeMs !== null) expect(r.responseTimeMs >= 1 && r.responseTimeMs <= 600_000).toBe(true);
      expect(r.actuatorTempC > 15 && r.actuatorTempC < 60).toBe(true);
      if (r.errorCode !== null) expect(r.errorCode).toMatch(/^[A-Z0-9_]{1,32}$/);
    }
  });

  test('people move by day and rest at night (local time)', () => {
    const day = rows.filter((r) => { const h = localHour(r); return h >= 9 && h < 18; });
    const night = rows.filter((r) => { const h = localHour(r); return h >= 1 && h < 5; });
    const mean = (xs: TelemetryRow[]) => xs.reduce((s, r) => s + r.movements, 0) / xs.length;
    expect(mean(day)).toBeGreaterThan(10 * Math.max(mean(night), 0.01));
    expect(night.filter((r) => r.charging).length / night.length).toBeGreaterThan(0.9);
    expect(day.filter((r) => r.charging).length / day.length).toBeLessThan(0.3);
  });

  test('battery drains through the day and is full in the morning; errors are rare', () => {
    const at = (h: number) => rows.filter((r) => localHour(r) === h);
    const avgBattery = (xs: TelemetryRow[]) => xs.reduce((s, r) => s + r.batteryPct, 0) / xs.length;
    expect(avgBattery(at(8))).toBeGreaterThan(avgBattery(at(19)) + 15);
    const errors = rows.filter((r) => r.errorCode !== null).length / rows.length;
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(0.01);
    const rts = rows.filter((r) => r.responseTimeMs !== null).map((r) => r.responseTimeMs!).sort((a, b) => a - b);
    expect(rts[Math.floor(rts.length * 0.5)]!).toBeGreaterThan(60);
    expect(rts[Math.floor(rts.length * 0.99)]!).toBeGreaterThan(rts[Math.floor(rts.length * 0.5)]!);
  });

  test('--bulk-rows gives exactly that many rows', () => {
    const bulk = options({ bulkRows: 12_345 });
    expect(rowsOf(bulk)).toHaveLength(12_345);
  });

  test('never generates future telemetry', () => {
    const today = parseGenerateArgs([], NOW);
    const future = planGeneration(today, NOW);
    expect(future.toMs).toBe(NOW.getTime());
  });

  test('copyLine writes NULLs and booleans in COPY text format', () => {
    const line = copyLine({ eventId: 'e', chipId: 'CHIP-1', eventTimeMs: 0, movements: 0, successfulMovements: 0, responseTimeMs: null, batteryPct: 5, actuatorTempC: 30.5, errorCode: null, charging: true });
    expect(line).toBe('e\tCHIP-1\t1970-01-01T00:00:00.000Z\t0\t0\t\\N\t5\t30.5\t\\N\tt\n');
  });
});

describe('CLI flags', () => {
  test('defaults', () => {
    expect(parseGenerateArgs([], NOW)).toEqual({
      seed: 42, customers: 20, days: 14, endDate: '2025-02-01', eventsPerHour: 12, bulkRows: undefined, crm: true, telemetry: true, dryRun: false,
    });
    expect(parseGenerateArgs(['--seed=7', '--telemetry-only', '--bulk-rows', '1000'], NOW)).toMatchObject({ seed: 7, crm: false, telemetry: true, bulkRows: 1000 });
  });

  test('rejects bad values with a clear message', () => {
    const cases: [string[], RegExp][] = [
      [['--seed', '-1'], /--seed needs a whole number/],
      [['--seed', '4294967296'], /between 0 and 4294967295/],
      [['--customers', '0'], /--customers must be between 1 and 100000/],
      [['--customers'], /--customers needs a whole number, got nothing/],
      [['--days', '1.5'], /--days needs a whole number/],
      [['--end-date', '2025-02-30'], /not a calendar day/],
      [['--end-date', '20250101'], /needs YYYY-MM-DD/],
      [['--events-per-hour', '7'], /must divide the hour/],
      [['--crm-only', '--telemetry-only'], /exclude each other/],
      [['--crm-only', '--bulk-rows', '5'], /makes no sense with --crm-only/],
      [['--dry-run=yes'], /takes no value/],
      [['--days', '3', '--days', '4'], /given twice/],
      [['--frobnicate'], /unknown argument "--frobnicate"/],
    ];
    for (const [argv, message] of cases) expect(() => parseGenerateArgs(argv, NOW)).toThrow(message);
  });

  test('the CLI exits 2 on bad flags and prints usage', () => {
    const result = spawnSync(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'demo/generate.ts'), '--customers', 'many'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--customers needs a whole number');
    expect(result.stderr).toContain('usage: node demo/generate.ts');
  });

  test('--dry-run prints the same fingerprint twice and writes nothing', () => {
    const run = () => spawnSync(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'demo/generate.ts'), '--dry-run', '--end-date', '2025-01-20', '--days', '2'], { encoding: 'utf8', env: { ...process.env, CRM_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    const [a, b] = [run(), run()];
    expect(a.status).toBe(0);
    const fingerprint = (out: string) => /fingerprint crm (\w+) telemetry (\w+)/.exec(out)?.slice(1);
    expect(fingerprint(a.stdout)).toBeDefined();
    expect(fingerprint(a.stdout)).toEqual(fingerprint(b.stdout)!);
  });
});
