/**
 * The records every contender encodes and decodes. They are the same objects for all libraries, built from a
 * seeded generator so every run and every machine measures the same bytes.
 *
 * Values are JSON-like text drawn from a small vocabulary: real payloads compress, random bytes do not, and a
 * compression benchmark on incompressible data only measures memcpy.
 */

/** One record as the benchmarks hand it to each library's adapter. */
export interface BenchRecord {
  readonly key: Buffer;
  readonly value: Buffer;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

/** A named set of records plus the number of payload bytes (key + value) it carries. */
export interface RecordSet {
  readonly name: string;
  readonly records: readonly BenchRecord[];
  readonly payloadBytes: number;
}

/** Fixed base so timestamp deltas, and so the encoded bytes, never depend on the clock. */
export const BASE_TIMESTAMP = 1_700_000_000_000;

const WORDS = [
  'order', 'customer', 'status', 'created', 'updated', 'amount', 'currency', 'GBP', 'EUR', 'pending', 'shipped',
  'delivered', 'cancelled', 'region', 'north', 'south', 'east', 'west', 'sku', 'quantity', 'price', 'discount',
  'true', 'false', 'null', 'dataset', 'version', 'release', 'topic', 'partition', 'offset', 'kafka', 'channel',
];

/** mulberry32: tiny, fast, good enough to make reproducible fixtures. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function textOfLength(length: number, random: () => number): Buffer {
  let s = '{';
  while (s.length < length) {
    const w = WORDS[Math.floor(random() * WORDS.length)]!;
    const n = Math.floor(random() * 100000);
    s += `"${w}":"${w}-${n}",`;
  }
  return Buffer.from(s.slice(0, length - 1) + '}', 'latin1');
}

/** `count` records with a 10-byte key and a `valueSize`-byte value, timestamps 1 ms apart. */
export function makeRecords(count: number, valueSize: number, seed = 42): RecordSet {
  const random = seededRandom(seed);
  const records: BenchRecord[] = [];
  let payloadBytes = 0;
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`key-${String(i).padStart(6, '0')}`, 'latin1');
    const value = textOfLength(valueSize, random);
    records.push({ key, value, timestamp: BASE_TIMESTAMP + i });
    payloadBytes += key.length + value.length;
  }
  const label = valueSize >= 1024 ? `${valueSize / 1024}KB` : `${valueSize}B`;
  return { name: `${count}x${label}`, records, payloadBytes };
}

/** Bytes of pseudo-random content for checksum benchmarks. */
export function makeBytes(size: number, seed = 7): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (random() * 256) | 0;
  return out;
}
