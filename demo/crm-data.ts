/**
 * The demo CRM: prosthesis models, customers (the demo people who own a prosthesis first, then
 * synthetic ones), their prostheses and orders. A pure function of its options.
 *
 * Identity is seed-independent: ids, usernames, chip ids, serial numbers and how many prostheses and
 * orders a customer has derive from natural keys only, so runs with different seeds upsert the same
 * rows instead of piling up new ones. The seed decides the attribute values (which model, dates,
 * amounts, phone numbers, statuses) and all telemetry.
 */
import { PEOPLE, type Region } from './people.ts';
import { hashString, mix, Rng, uuidFromKey } from './random.ts';

export interface ProsthesisModel {
  id: string;
  name: string;
  manufacturer: string;
  kind: 'hand' | 'arm' | 'leg' | 'foot';
  actuatorCount: number;
  batteryCapacityMah: number;
  weightG: number;
  /** List price in EUR; RUB orders convert at a fixed demo rate. */
  priceEur: number;
}

export interface Customer {
  id: string;
  username: string;
  region: Region;
  fullName: string;
  email: string;
  phone: string | null;
  createdAt: Date;
  /** True for a demo person from demo/people.ts (can log in), false for a synthetic customer. */
  isDemoPerson: boolean;
}

export interface Prosthesis {
  id: string;
  chipId: string;
  customerId: string;
  customerUsername: string;
  region: Region;
  modelId: string;
  serialNumber: string;
  fittedAt: Date;
  status: 'active' | 'maintenance' | 'retired';
  createdAt: Date;
}

export interface Order {
  id: string;
  customerId: string;
  modelId: string;
  status: 'new' | 'paid' | 'manufacturing' | 'shipped' | 'fitted' | 'cancelled';
  amount: string;
  currency: 'RUB' | 'EUR';
  orderedAt: Date;
}

export interface CrmDataset {
  models: ProsthesisModel[];
  customers: Customer[];
  prostheses: Prosthesis[];
  orders: Order[];
}

export interface CrmOptions {
  seed: number;
  /** Total customers: the demo prosthesis owners first, then synthetic ones. */
  customers: number;
  /** Everything CRM-side happened before this instant (fittings precede the telemetry window). */
  before: Date;
  /** Leave out the demo people: only synthetic customers (tests use this to stay apart from the demo). */
  syntheticOnly?: boolean;
  /** Username prefix of synthetic customers (default `demo.customer`). */
  usernamePrefix?: string;
}

const MODEL_SPECS: Omit<ProsthesisModel, 'id'>[] = [
  { name: 'BionicHand Pro 3', manufacturer: 'BionicPRO', kind: 'hand', actuatorCount: 6, batteryCapacityMah: 2400, weightG: 480, priceEur: 42000 },
  { name: 'BionicHand Lite 2', manufacturer: 'BionicPRO', kind: 'hand', actuatorCount: 3, batteryCapacityMah: 1800, weightG: 390, priceEur: 21000 },
  { name: 'ArmFlex 5', manufacturer: 'BionicPRO', kind: 'arm', actuatorCount: 9, batteryCapacityMah: 4200, weightG: 1350, priceEur: 68000 },
  { name: 'StrideKnee X', manufacturer: 'Nordlimb', kind: 'leg', actuatorCount: 2, batteryCapacityMah: 3600, weightG: 1600, priceEur: 54000 },
  { name: 'AnkleAct 2', manufacturer: 'Nordlimb', kind: 'foot', actuatorCount: 1, batteryCapacityMah: 1500, weightG: 900, priceEur: 26000 },
  { name: 'Grip S', manufacturer: 'Mechatron', kind: 'hand', actuatorCount: 5, batteryCapacityMah: 2000, weightG: 450, priceEur: 33000 },
];

const RUB_PER_EUR = 100;
const DAY_MS = 86_400_000;

const SYNTHETIC_NAMES: Record<Region, { given: string[]; surname: string[]; }> = {
  ru: {
    given: ['Алексей', 'Мария', 'Никита', 'Екатерина', 'Павел', 'Татьяна', 'Михаил', 'Юлия', 'Андрей', 'Наталья'],
    surname: ['Иванов', 'Орлов', 'Лебедев', 'Козлов', 'Новиков', 'Морозов', 'Попов', 'Егоров', 'Фёдоров', 'Зайцев'],
  },
  eu: {
    given: ['Lukas', 'Mia', 'Noah', 'Chloé', 'Mateo', 'Sofia', 'Finn', 'Elif', 'Jonas', 'Maja'],
    surname: ['Müller', 'Dubois', 'García', 'Bianchi', 'Novak', 'Andersson', 'de Vries', 'Nowak', 'Costa', 'Horvat'],
  },
};

/** How many prostheses a customer has (seed-independent): most one, some two. */
function prosthesisCount(username: string): number {
  return hashString(`prostheses:${username}`) % 100 < 15 ? 2 : 1;
}

/** Extra orders beyond one per prosthesis (seed-independent). */
function extraOrderCount(username: string): number {
  return hashString(`orders:${username}`) % 3;
}

export function chipIdFor(region: Region, username: string, ordinal: number): string {
  const h = hashString(`chip:${username}:${ordinal}`);
  return `CHIP-${region.toUpperCase()}-${h.toString(16).padStart(8, '0')}${ordinal}`;
}

export function syntheticUsername(index: number, prefix = 'demo.customer'): string {
  return `${prefix}.${String(index).padStart(5, '0')}`;
}

export function buildCrmDataset(options: CrmOptions): CrmDataset {
  const { seed, customers: customerCount, before, syntheticOnly = false, usernamePrefix = 'demo.customer' } = options;
  if (!/^[a-z0-9._-]{1,40}$/.test(usernamePrefix)) throw new Error(`usernamePrefix ${JSON.stringify(usernamePrefix)} must be 1-40 of [a-z0-9._-]`);
  const models: ProsthesisModel[] = MODEL_SPECS.map((spec) => ({ id: uuidFromKey(`model:${spec.manufacturer}:${spec.name}`), ...spec }));
  const owners = syntheticOnly ? [] : PEOPLE.filter((p) => p.roles.includes('prothetic_user'));

  const customers: Customer[] = [];
  for (let i = 0; i < customerCount; i++) {
    const owner = owners[i];
    const username = owner ? owner.uid : syntheticUsername(i - owners.length + 1, usernamePrefix);
    const rng = new Rng(mix(seed, hashString(`customer:${username}`)));
    const region: Region = owner ? owner.region : hashString(`region:${username}`) % 2 === 0 ? 'ru' : 'eu';
    const names = SYNTHETIC_NAMES[region];
    const fullName = owner ? owner.displayName : `${rng.pick(names.given)} ${rng.pick(names.surname)}`;
    const phone = rng.chance(0.8) ? (region === 'ru' ? `+7 9${rng.int(10, 99)} ${rng.int(100, 999)}-${rng.int(10, 99)}-${rng.int(10, 99)}` : `+49 15${rng.int(1, 9)} ${rng.int(1000000, 9999999)}`) : null;
    customers.push({
      id: uuidFromKey(`customer:${username}`),
      username,
      region,
      fullName,
      email: owner ? owner.email : `${username}@${region}.customers.example`,
      phone,
      createdAt: new Date(before.getTime() - rng.int(400, 1100) * DAY_MS),
      isDemoPerson: owner !== undefined,
    });
  }

  const prostheses: Prosthesis[] = [];
  const orders: Order[] = [];
  for (const customer of customers) {
    const rng = new Rng(mix(seed, hashString(`fitting:${customer.username}`)));
    const currency = customer.region === 'ru' ? 'RUB' : 'EUR';
    const price = (model: ProsthesisModel) => (currency === 'RUB' ? model.priceEur * RUB_PER_EUR : model.priceEur) * rng.range(0.92, 1.05);
    for (let ordinal = 1; ordinal <= prosthesisCount(customer.username); ordinal++) {
      const model = rng.pick(models);
      const chipId = chipIdFor(customer.region, customer.username, ordinal);
      const daysBeforeWindow = rng.int(30, 380);
      const fittedAt = new Date(before.getTime() - daysBeforeWindow * DAY_MS - rng.int(0, 86_399) * 1000);
      // Demo people always have a working prosthesis; a few synthetic ones are in for service.
      const status = !customer.isDemoPerson && rng.chance(0.05) ? 'maintenance' : 'active';
      prostheses.push({
        id: uuidFromKey(`prosthesis:${chipId}`),
        chipId,
        customerId: customer.id,
        customerUsername: customer.username,
        region: customer.region,
        modelId: model.id,
        serialNumber: `SN-${chipId.slice(5)}`,
        fittedAt,
        status,
        createdAt: new Date(fittedAt.getTime() - rng.int(20, 60) * DAY_MS),
      });
      orders.push({
        id: uuidFromKey(`order:${customer.username}:${ordinal}`),
        customerId: customer.id,
        modelId: model.id,
        status: 'fitted',
        amount: price(model).toFixed(2),
        currency,
        orderedAt: new Date(fittedAt.getTime() - rng.int(30, 90) * DAY_MS),
      });
    }
    for (let extra = 1; extra <= extraOrderCount(customer.username); extra++) {
      const model = rng.pick(models);
      orders.push({
        id: uuidFromKey(`order:${customer.username}:extra:${extra}`),
        customerId: customer.id,
        modelId: model.id,
        status: rng.pick(['new', 'paid', 'manufacturing', 'shipped', 'cancelled'] as const),
        amount: price(model).toFixed(2),
        currency,
        orderedAt: new Date(before.getTime() - rng.int(1, 120) * DAY_MS),
      });
    }
  }
  return { models, customers, prostheses, orders };
}
