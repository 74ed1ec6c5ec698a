/**
 * Which partition a record goes to, compatible with Kafka's Java producer so that a keyed record lands on the
 * same partition whichever client wrote it:
 * - an explicit partition wins;
 * - a key (even an empty one) is hashed with Kafka's murmur2 (`Utils.murmur2`, `BuiltInPartitioner.partitionForKey`);
 * - a null key sticks to one partition until its batch is closed, then moves on (KIP-480), so null-key records
 *   fill a few large batches instead of many tiny ones.
 */
import { InvalidArgumentError } from '../errors.js';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (MurmurHash2, seed 0x9747b28c) over `data`, as a signed 32-bit int exactly as Java's
 * `Utils.murmur2` returns it. Little-endian 4-byte words; the 1-3 byte tail is mixed in as Java's switch does.
 * `length` hashes a prefix of `data` without making a subarray.
 */
export function murmur2(data: Uint8Array, length: number = data.length): number {
  let h = SEED ^ length;
  const end4 = length & ~3;
  for (let i = 0; i < end4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch falls through from case 3 to case 1; the multiply happens once for any non-empty tail.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[end4 + 2]! << 16;
    if (tail >= 2) h ^= data[end4 + 1]! << 8;
    h ^= data[end4]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which maps -2^31 to itself). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

// Strings are encoded into one reused buffer so hashing a string key allocates nothing (grown when needed).
// Empty where the runtime has no Buffer (the package still loads; clients refuse to start there).
let scratch = typeof Buffer === 'function' ? Buffer.allocUnsafe(256) : (new Uint8Array(0) as Buffer);

/**
 * The partition Kafka's producer picks for a non-null key: `toPositive(murmur2(key)) % numPartitions`.
 * A string key is hashed as its UTF-8 bytes, which is what Kafka's StringSerializer produces.
 */
export function partitionForKey(key: Uint8Array | string, numPartitions: number): number {
  if (typeof key === 'string') {
    const max = key.length * 3;
    if (max > scratch.length) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
    // Short keys: encoding in JS avoids the native call's fixed cost (measured 2x faster for 10-character keys).
    const n = key.length <= 64 ? encodeUtf8(key, scratch) : scratch.write(key, 0, 'utf8');
    return toPositive(murmur2(scratch, n)) % numPartitions;
  }
  return toPositive(murmur2(key)) % numPartitions;
}

/** UTF-8 of `s` into `out` (room for 3 bytes per UTF-16 unit); lone surrogates become U+FFFD, as in Buffer.write. */
function encodeUtf8(s: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/**
 * Sticky choice for records without a key (KIP-480). The accumulator drives it, per null-key record:
 * ```ts
 * let p = sticky.partition(topic, n);
 * if (!accumulator.fitsInOpenBatch(topic, p, record)) {   // would need a new batch on p
 *   sticky.onNewBatch(topic, p);                           // leave p...
 *   p = sticky.partition(topic, n);                        // ...for another partition, and open the batch there
 * }
 * ```
 * so each switch happens when a batch is complete, and null-key records fill a few large batches.
 *
 * Kafka 3.3+ (KIP-794) switches after `batch.size` bytes and weighs partitions by queue length; this is the
 * simpler KIP-480 rule, which gives the same large batches without needing the broker queue statistics.
 */
export class StickyPartitioner {
  private readonly sticky = new Map<string, number>();
  private readonly random: () => number;

  /** `random` returns a float in [0, 1); injectable so tests are deterministic. */
  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /**
   * The current sticky partition of `topic`, choosing one when there is none yet (or the partition count shrank).
   * `available`, when given and non-empty, lists partitions that have a leader; the choice is made among them,
   * as Kafka does, so records do not pile up behind an unavailable partition.
   */
  partition(topic: string, numPartitions: number, available?: readonly number[]): number {
    const current = this.sticky.get(topic);
    if (current !== undefined && current >= 0 && current < numPartitions) return current;
    const next = this.choose(numPartitions, available, current);
    this.sticky.set(topic, next);
    return next;
  }

  /**
   * A new batch is being created for `prevPartition`: if that is still the sticky partition, forget it so the
   * next `partition()` call picks a different one. Called for an older partition, it changes nothing, which
   * keeps a burst of concurrent batch completions from switching more than once.
   */
  onNewBatch(topic: string, prevPartition: number): void {
    if (this.sticky.get(topic) === prevPartition) this.sticky.set(topic, -1 - prevPartition);
  }

  /** A random partition, avoiding the one just left (stored as `-1 - prev`) when there is another to go to. */
  private choose(numPartitions: number, available: readonly number[] | undefined, marker: number | undefined): number {
    const avoid = marker !== undefined && marker < 0 ? -1 - marker : -1;
    if (available && available.length > 0) {
      if (available.length === 1) return available[0]!;
      let pick = available[Math.floor(this.random() * available.length)]!;
      if (pick === avoid) pick = available[(available.indexOf(pick) + 1) % available.length]!;
      return pick;
    }
    if (numPartitions <= 1) return 0;
    if (avoid < 0 || avoid >= numPartitions) return Math.floor(this.random() * numPartitions);
    // Uniform over the other numPartitions - 1 partitions.
    const pick = Math.floor(this.random() * (numPartitions - 1));
    return pick >= avoid ? pick + 1 : pick;
  }
}

/** What the partitioner needs to know about a record. */
export interface PartitionRequest {
  readonly partition?: number | null;
  readonly key?: Uint8Array | string | null;
}

/**
 * The full rule for one record: explicit partition (checked against the topic's partition count), else the key
 * hash, else the sticky partition. Kafka's producer applies the same order.
 */
export function choosePartition(
  record: PartitionRequest,
  topic: string,
  numPartitions: number,
  sticky: StickyPartitioner,
  available?: readonly number[],
): number {
  if (numPartitions <= 0) throw new InvalidArgumentError(`topic ${topic} has no partitions`);
  const explicit = record.partition;
  if (explicit !== undefined && explicit !== null) {
    if (!Number.isInteger(explicit) || explicit < 0 || explicit >= numPartitions) {
      throw new InvalidArgumentError(`partition ${explicit} is not in topic ${topic}, which has ${numPartitions} partitions`);
    }
    return explicit;
  }
  if (record.key !== undefined && record.key !== null) return partitionForKey(record.key, numPartitions);
  return sticky.partition(topic, numPartitions, available);
}
