/**
 * Simulated prosthesis telemetry: one event per device every 60/eventsPerHour minutes, each
 * summarising that interval. A pure function of (seed, chip, UTC day, eventsPerHour).
 *
 * Patterns (local time of the owner's region):
 * - day/night: movements while awake, mostly none at night; busy mornings and afternoons, a quieter
 *   lunch and evening, random rests; weekends start later and are a little calmer;
 * - battery drains with time worn and with every movement, charges overnight (plugged in at bed
 *   time, unplugged in the morning once full) and gets a daytime top-up when it runs low;
 * - response time: log-normal around the device's own baseline, slower on a low battery or when hot;
 * - actuator temperature follows activity (and charging) with inertia;
 * - errors are rare; overheating and low-battery errors appear under those conditions.
 *
 * Each UTC day of each chip has its own random stream and starts from a fixed state (asleep and
 * charging at 00:00 UTC, which is night in both regions), so any day can be generated alone and a
 * run over a longer range reproduces the overlapping days exactly.
 */
import type { Region } from './people.ts';
import { hashString, mix, Rng, uuidFromWords } from './random.ts';

export interface TelemetryRow {
  eventId: string;
  chipId: string;
  /** Milliseconds since the epoch (UTC). */
  eventTimeMs: number;
  movements: number;
  successfulMovements: number;
  /** Mean response over the interval's movements; null when there were none. */
  responseTimeMs: number | null;
  batteryPct: number;
  /** Two decimals. */
  actuatorTempC: number;
  errorCode: string | null;
  charging: boolean;
}

export interface TelemetryChip {
  chipId: string;
  region: Region;
}

export const EVENTS_PER_HOUR_CHOICES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] as const;

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const TIME_ZONES: Record<Region, string> = { ru: 'Europe/Moscow', eu: 'Europe/Berlin' };

const offsetCache = new Map<string, number>();

/** The region's UTC offset in hours at noon UTC of the given day (DST changes happen at night). */
export function utcOffsetHours(region: Region, dayStartMs: number): number {
  const key = `${region}:${dayStartMs}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONES[region], timeZoneName: 'shortOffset' }).formatToParts(new Date(dayStartMs + 12 * HOUR_MS));
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const match = /GMT([+-]\d+)(?::(\d+))?/.exec(name);
    offset = match ? Number(match[1]) + (Number(match[2] ?? 0) / 60) * Math.sign(Number(match[1])) : 0;
    offsetCache.set(key, offset);
  }
  return offset;
}

/** A device's own habits, fixed for the seed. */
interface ChipProfile {
  chipHash: number;
  wakeHour: number;
  sleepHour: number;
  activity: number;
  movesPerMinute: number;
  baseResponseMs: number;
  idleDrainPerHour: number;
  drainPerMovement: number;
  chargePerHour: number;
  errorProneness: number;
}

function profileOf(seed: number, chipId: string): ChipProfile {
  const chipHash = hashString(chipId);
  const rng = new Rng(mix(seed, chipHash, 0x5eed));
  const activity = rng.range(0.6, 1.4);
  return {
    chipHash,
    wakeHour: rng.range(6, 8.5),
    sleepHour: rng.range(21.5, 23.8),
    activity,
    movesPerMinute: rng.range(2, 6),
    baseResponseMs: rng.range(70, 160),
    idleDrainPerHour: rng.range(2, 3.5),
    drainPerMovement: rng.range(0.008, 0.02),
    chargePerHour: rng.range(30, 45),
    errorProneness: rng.range(0.5, 2),
  };
}

/** Relative activity by local hour while awake. */
function activityCurve(localHour: number): number {
  if (localHour < 8) return 0.55;
  if (localHour < 12) return 1;
  if (localHour < 13.5) return 0.6;
  if (localHour < 18.5) return 0.9;
  return 0.5;
}

const RANDOM_ERRORS = ['E_SENSOR_TIMEOUT', 'E_MOTOR_STALL', 'E_COMM_RETRY', 'E_GRIP_SLIP'] as const;

export interface DayOptions {
  seed: number;
  eventsPerHour: number;
}

const profileCache = new Map<string, ChipProfile>();

function cachedProfile(seed: number, chipId: string): ChipProfile {
  const key = `${seed}:${chipId}`;
  let profile = profileCache.get(key);
  if (!profile) {
    if (profileCache.size > 100_000) profileCache.clear();
    profile = profileOf(seed, chipId);
    profileCache.set(key, profile);
  }
  return profile;
}

/**
 * Emits the events of one chip on one UTC day (dayStartMs must be a UTC midnight), in time order,
 * keeping only those in [fromMs, toMs). Returns how many it emitted.
 */
export function generateChipDay(
  options: DayOptions,
  chip: TelemetryChip,
  dayStartMs: number,
  fromMs: number,
  toMs: number,
  emit: (row: TelemetryRow) => void,
): number {
  if (dayStartMs % DAY_MS !== 0) throw new Error(`day start ${new Date(dayStartMs).toISOString()} is not a UTC midnight`);
  const { seed, eventsPerHour } = options;
  const profile = cachedProfile(seed, chip.chipId);
  const dayNumber = dayStartMs / DAY_MS;
  const rng = new Rng(mix(seed, profile.chipHash, dayNumber));
  const offset = utcOffsetHours(chip.region, dayStartMs);
  const localWeekday = new Date(dayStartMs + 12 * HOUR_MS + offset * HOUR_MS).getUTCDay();
  const weekend = localWeekday === 0 || localWeekday === 6;
  const wake = profile.wakeHour + (weekend ? 1.2 : 0) + rng.range(-0.4, 0.4);
  const sleep = profile.sleepHour + rng.range(-0.5, 0.5);
  const dayActivity = profile.activity * rng.range(0.7, 1.25) * (weekend ? 0.85 : 1);
  const intervalMs = HOUR_MS / eventsPerHour;
  const intervalMin = 60 / eventsPerHour;
  const intervalHours = 1 / eventsPerHour;
  const seedWord = mix(seed, 0xe7e7);

  let battery = rng.range(55, 85);
  let charging = true;
  let temp = rng.range(28, 31);
  let emitted = 0;
  const slots = 24 * eventsPerHour;
  for (let slot = 0; slot < slots; slot++) {
    const slotStartMs = dayStartMs + slot * intervalMs;
    const localHour = (((slotStartMs / HOUR_MS + offset) % 24) + 24) % 24;
    const awake = localHour >= wake && localHour < sleep;

    if (charging) {
      if (awake && battery >= 97) charging = false;
      else if (awake && battery >= 80 && rng.chance(0.3)) charging = false;
    } else if (!awake) {
      charging = rng.chance(0.97);
    } else if (battery < 15 && rng.chance(0.6)) {
      charging = true;
    }

    let intensity: number;
    if (awake) {
      intensity = activityCurve(localHour) * (rng.chance(0.22) ? 0.1 : 1) * (charging ? 0.3 : 1);
    } else {
      intensity = rng.chance(0.02) ? 0.05 : 0;
    }
    const movements = rng.count(profile.movesPerMinute * dayActivity * intensity * intervalMin);

    const hot = temp > 40;
    const low = battery < 15;
    const failRate = 0.015 * profile.errorProneness + (low ? 0.03 : 0) + (hot ? 0.03 : 0);
    const failures = Math.min(movements, rng.count(movements * failRate));
    let responseTimeMs: number | null = null;
    if (movements > 0) {
      const sigma = 0.25 / Math.sqrt(Math.min(movements, 25)) + 0.05;
      const factor = (low ? 1.3 : 1) * (hot ? 1.15 : 1);
      responseTimeMs = Math.max(1, Math.round(profile.baseResponseMs * factor * Math.exp(sigma * rng.normal())));
    }

    if (charging) battery = Math.min(100, battery + profile.chargePerHour * intervalHours);
    else battery = Math.max(0, battery - profile.idleDrainPerHour * intervalHours - movements * profile.drainPerMovement);

    const movesPerMin = movements / intervalMin;
    const target = 30 + 1.1 * movesPerMin + (charging ? 2.5 : 0);
    temp += (target - temp) * 0.5 + 0.3 * rng.normal();

    let errorCode: string | null = null;
    if (temp > 41 && rng.chance(0.3)) errorCode = 'E_OVERHEAT';
    else if (battery < 5 && !charging && rng.chance(0.5)) errorCode = 'E_LOW_BATTERY';
    else if (rng.chance(0.0015 * profile.errorProneness)) errorCode = rng.pick(RANDOM_ERRORS);

    const eventTimeMs = slotStartMs + rng.int(0, Math.floor(intervalMs / 10));
    if (eventTimeMs < fromMs || eventTimeMs >= toMs) continue;
    const timeLow = eventTimeMs % 4294967296;
    const timeHigh = Math.floor(eventTimeMs / 4294967296);
    emit({
      eventId: uuidFromWords(mix(seedWord, profile.chipHash, timeLow, 1), mix(seedWord, timeHigh, timeLow, 2), mix(profile.chipHash, timeLow, 3), mix(seedWord, profile.chipHash, timeHigh, timeLow)),
      chipId: chip.chipId,
      eventTimeMs,
      movements,
      successfulMovements: movements - failures,
      responseTimeMs,
      batteryPct: Math.round(battery),
      actuatorTempC: Math.round(temp * 100) / 100,
      errorCode,
      charging,
    });
    emitted++;
  }
  return emitted;
}

/** The UTC days overlapping [fromMs, toMs). */
export function daysCovering(fromMs: number, toMs: number): number[] {
  const days: number[] = [];
  for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS; day < toMs; day += DAY_MS) days.push(day);
  return days;
}

/**
 * Every event of the chips over [fromMs, toMs), day by day (all chips of a day, then the next day),
 * stopping after maxRows when given. Returns the number emitted.
 */
export function forEachTelemetryRow(
  options: DayOptions & { chips: readonly TelemetryChip[]; fromMs: number; toMs: number; maxRows?: number },
  emit: (row: TelemetryRow) => void,
): number {
  let total = 0;
  const limit = options.maxRows ?? Number.POSITIVE_INFINITY;
  for (const day of daysCovering(options.fromMs, options.toMs)) {
    for (const chip of options.chips) {
      if (total >= limit) return total;
      generateChipDay(options, chip, day, options.fromMs, options.toMs, (row) => {
        if (total < limit) {
          emit(row);
          total++;
        }
      });
    }
  }
  return total;
}
