/**
 * Finds a person's identifiers in bytes, whatever a store did to the text on the way: the byte forms
 * searched for each value are UTF-8, UTF-16 LE and BE (Java and JavaScript internals, some binary
 * formats), H2's MVStore string encoding (Keycloak's dev-file database; see h2StringBytes), JSON's
 * \uXXXX escapes and URL percent-encoding (logged query strings). For a phone, its digits alone too.
 */

export const KINDS = ['name', 'email', 'phone', 'username'] as const;
export type Kind = (typeof KINDS)[number];

/** What is searched for one person: every spelling of each kind (several names: cn, given + sn, CRM full name). */
export interface PersonNeedles {
  uid: string;
  values: Record<Kind, readonly string[]>;
  /**
   * Given name and surname as a store may keep them, in two fields (Keycloak's USER_ENTITY has
   * FIRST_NAME and LAST_NAME): a name hit is the given name followed within a few bytes by the surname.
   */
  nameParts?: ReadonlyArray<readonly [string, string]>;
}

/** Bytes allowed between a given name and the surname: a separator, a quote and comma, a field header. */
const MAX_NAME_GAP_BYTES = 6;

export type KindCounts = Record<Kind, number>;

export function zeroCounts(): KindCounts {
  return { name: 0, email: 0, phone: 0, username: 0 };
}

export function addCounts(into: KindCounts, more: KindCounts): KindCounts {
  for (const kind of KINDS) into[kind] += more[kind];
  return into;
}

export function totalOf(counts: KindCounts): number {
  return KINDS.reduce((sum, kind) => sum + counts[kind], 0);
}

/**
 * H2 2.x writes a string's chars with its own variable-length code (DataUtils.writeStringData): one
 * byte below 0x80, then `0xc0 | c >> 6, c & 0x3f` below 0x800 and `0xe0 | c >> 12, (c >> 6) & 0x3f,
 * c & 0x3f` above — UTF-8 without the continuation bits. "Иван" is d0 18 d0 32 d0 30 d0 3d there, so
 * a UTF-8 search of the file misses every Cyrillic name (checked on the stack's keycloakdb.mv.db).
 */
export function h2StringBytes(value: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), c & 0x3f);
    else out.push(0xe0 | (c >> 12), (c >> 6) & 0x3f, c & 0x3f);
  }
  return Buffer.from(out);
}

function jsonEscaped(value: string, upper: boolean): string {
  return value.replace(/[^\x20-\x7e]/g, (ch) => {
    const hex = ch.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  });
}

const TEXT_FORMS: ReadonlyArray<(value: string) => string> = [
  (v) => v,
  (v) => jsonEscaped(v, false),
  (v) => jsonEscaped(v, true),
  (v) => encodeURIComponent(v),
  (v) => encodeURIComponent(v).replaceAll('%20', '+'),
];
const BYTE_FORMS: ReadonlyArray<(text: string) => Buffer> = [
  (t) => Buffer.from(t, 'utf8'),
  (t) => Buffer.from(t, 'utf16le'),
  (t) => Buffer.from(t, 'utf16le').swap16(),
  h2StringBytes,
];

/** The distinct byte forms a value may take in a store. */
export function byteForms(value: string, kind: Kind): Buffer[] {
  const texts = new Set(TEXT_FORMS.map((form) => form(value)));
  if (kind === 'phone') {
    const digits = value.replace(/\D/g, '');
    // Fewer digits would match unrelated numbers (offsets, timestamps).
    if (digits.length >= 9) texts.add(digits);
  }
  const forms = new Map<string, Buffer>();
  for (const text of texts) {
    for (const encode of BYTE_FORMS) {
      const bytes = encode(text);
      forms.set(bytes.toString('hex'), bytes);
    }
  }
  return [...forms.values()];
}

/** A given name and a surname in the same text and byte form, for every form. */
function namePartForms(given: string, surname: string): Array<readonly [Buffer, Buffer]> {
  return TEXT_FORMS.flatMap((text) => BYTE_FORMS.map((encode) => [encode(text(given)), encode(text(surname))] as const));
}

function occurrences(haystack: Buffer, needle: Buffer): number {
  if (needle.length === 0) return 0;
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

export interface CompiledPerson {
  uid: string;
  forms: Record<Kind, Buffer[]>;
  /** Given name and surname in the same encoding, pairwise. */
  nameParts: Array<readonly [Buffer, Buffer]>;
  /** Forms of values of other kinds that contain the username (its e-mail): found there, it is an e-mail hit only. */
  usernameInside: Buffer[];
}

export function compilePerson(person: PersonNeedles): CompiledPerson {
  const forms = { name: [], email: [], phone: [], username: [] } as Record<Kind, Buffer[]>;
  for (const kind of KINDS) for (const value of new Set(person.values[kind])) if (value) forms[kind].push(...byteForms(value, kind));
  const usernameInside = KINDS.filter((k) => k !== 'username')
    .flatMap((kind) => person.values[kind].filter((v) => v.includes(person.uid)).map((v) => [v, kind] as const))
    .flatMap(([value, kind]) => byteForms(value, kind));
  const nameParts = (person.nameParts ?? []).flatMap(([given, surname]) => namePartForms(given, surname));
  return { uid: person.uid, forms, nameParts, usernameInside };
}

function positions(haystack: Buffer, needle: Buffer): number[] {
  const found: number[] = [];
  if (needle.length === 0) return found;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/** Where a name starts, whole or in two parts; one place counts once whichever form matched it. */
function nameStarts(bytes: Buffer, person: CompiledPerson): Set<number> {
  const starts = new Set<number>();
  for (const form of person.forms.name) for (const at of positions(bytes, form)) starts.add(at);
  for (const [given, surname] of person.nameParts) {
    for (const at of positions(bytes, given)) {
      const after = at + given.length;
      const window = bytes.subarray(after, after + MAX_NAME_GAP_BYTES + surname.length);
      const gap = window.indexOf(surname);
      if (gap !== -1 && gap <= MAX_NAME_GAP_BYTES) starts.add(at);
    }
  }
  return starts;
}

/**
 * Occurrences of each kind of a person's identifiers in one blob. A username counts only where it is
 * not part of a longer identifier already counted (ivan.petrov in ivan.petrov@ru.bionicpro.example).
 */
export function countIn(bytes: Buffer, person: CompiledPerson): KindCounts {
  const counts = zeroCounts();
  for (const kind of KINDS) if (kind !== 'name') for (const form of person.forms[kind]) counts[kind] += occurrences(bytes, form);
  counts.name = nameStarts(bytes, person).size;
  if (counts.username > 0) {
    let inside = 0;
    for (const form of person.usernameInside) inside += occurrences(bytes, form);
    counts.username = Math.max(0, counts.username - inside);
  }
  return counts;
}

/** Counts for every person in one blob, summed per kind, plus which people were hit. */
export function countAll(bytes: Buffer, people: readonly CompiledPerson[]): { counts: KindCounts; hitUids: Set<string> } {
  const counts = zeroCounts();
  const hitUids = new Set<string>();
  for (const person of people) {
    const own = countIn(bytes, person);
    if (totalOf(own) > 0) hitUids.add(person.uid);
    addCounts(counts, own);
  }
  return { counts, hitUids };
}
