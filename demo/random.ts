import { createHash } from 'node:crypto';

/**
 * Deterministic randomness for the demo data: the same seed gives the same data on every machine and
 * runtime. Streams are derived from (seed, natural key, day) rather than drawn from one global
 * sequence, so a value does not depend on how much else was generated before it: a run over a longer
 * range or with more customers reproduces the overlapping part exactly.
 */

/** 32-bit finaliser of MurmurHash3: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units, finalised; stable across runtimes. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Combines 32-bit integers into one well-mixed 32-bit hash. */
export function mix(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) h = fmix32((h ^ (v >>> 0)) + 0x7f4a7c15 + (h << 6) + (h >>> 2));
  return h;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state, passes PractRand,
 * and is only additions, shifts and xors — a few nanoseconds per draw in JS.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = mix(seed, 1);
    this.b = mix(seed, 2);
    this.c = mix(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box–Muller; one of the pair is dropped to keep the stream position simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Poisson-like count with the given mean: exact for small means, normal approximation above. */
  count(mean: number): number {
    if (mean <= 0) return 0;
    if (mean < 30) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUID from four 32-bit words, marked as RFC 9562 version 8 ("custom"): these are deterministic
 * ids derived from natural keys, not random v4 ids.
 */
export function uuidFromWords(w0: number, w1: number, w2: number, w3: number): string {
  const v = ((w1 & 0xffff0fff) | 0x00008000) >>> 0; // version nibble 8 in the third group
  const r = ((w2 & 0x3fffffff) | 0x80000000) >>> 0; // variant 10xx
  return (
    HEX[w0 >>> 24]! + HEX[(w0 >>> 16) & 255]! + HEX[(w0 >>> 8) & 255]! + HEX[w0 & 255]! + '-' +
    HEX[v >>> 24]! + HEX[(v >>> 16) & 255]! + '-' + HEX[(v >>> 8) & 255]! + HEX[v & 255]! + '-' +
    HEX[r >>> 24]! + HEX[(r >>> 16) & 255]! + '-' + HEX[(r >>> 8) & 255]! + HEX[r & 255]! +
    HEX[w3 >>> 24]! + HEX[(w3 >>> 16) & 255]! + HEX[(w3 >>> 8) & 255]! + HEX[w3 & 255]!
  );
}

/** A stable UUID for a natural key such as `customer:ivan.petrov` (122 bits of sha256). */
export function uuidFromKey(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  return uuidFromWords(digest.readUInt32BE(0), digest.readUInt32BE(4), digest.readUInt32BE(8), digest.readUInt32BE(12));
}
