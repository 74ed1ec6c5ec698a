/**
 * What a library must offer to take part in the codec benchmarks. Each adapter calls the library's own internal
 * codec the way its producer and consumer do; the harness times only `encode` and `decode`.
 */

import type { BenchRecord, RecordSet } from './fixtures.js';

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** A record as read back, normalised so that contenders can check each other's bytes. */
export interface PlainRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  offset: number;
}

/** A library under test: its record-batch codec (when wired), CRC-32C and varints. */
export interface CodecContender {
  readonly name: string;
  /** RecordBatch v2 encode and decode; absent while a library's codec is not available. */
  readonly batch?: BatchCodec;
  /** CRC-32C implementations the library ships, by label. */
  readonly crc32c: Record<string, (data: Buffer) => number>;
  /** The library's block codecs, called as its record batch code calls them. */
  readonly codecs?: Partial<Record<Compression, BlockCodec>>;
  /** Encodes `values` as zigzag varints into one buffer, as the library's writer does. */
  writeVarints?(values: Int32Array): unknown;
  /** Reads `count` zigzag varints from `data`, as the library's reader does; returns their sum. */
  readVarints?(data: Buffer, count: number): number;
}

/** One compression codec (the records section of a batch in, compressed bytes out, and back). */
export interface BlockCodec {
  compress(data: Buffer): Uint8Array;
  decompress(data: Buffer): Uint8Array;
}

/**
 * A RecordBatch v2 codec. Adapters call the library's own internal codec the way its producer and consumer do;
 * the harness times only `encode` and `decode`.
 */
export interface BatchCodec {
  /** Compressions this library can encode and decode out of the box (no third-party codec plugins). */
  readonly compressions: readonly Compression[];
  /** Turns the shared records into the library's own message shape; not timed (a user builds those anyway). */
  prepare(set: RecordSet): unknown;
  /** Encodes one RecordBatch v2 from prepared messages; timed. May return the library's own buffer type. */
  encode(prepared: unknown, compression: Compression): unknown;
  /** Turns what `encode` returned (awaited) into contiguous bytes; not timed. */
  bytes(encoded: unknown): Buffer;
  /**
   * Decodes one batch and reads every record's key, value, offset and timestamp as the library exposes them
   * (lazy decoders must do the work here); timed. Returns a checksum so the JIT keeps the work.
   */
  decode(batch: Buffer): number | Promise<number>;
  /** As `decode` without CRC verification, for libraries that verify by default (peers never verify on fetch). */
  decodeWithoutCrc?(batch: Buffer): number;
  /** Decodes one batch into plain records, for cross-checking; not timed. */
  read(batch: Buffer): PlainRecord[] | Promise<PlainRecord[]>;
}

/** Sums what `decode` must touch, identically for all contenders. */
export function touch(key: Uint8Array | null, value: Uint8Array | null): number {
  let s = 0;
  if (key !== null) s += key.length;
  if (value !== null && value.length > 0) s += value.length + value[value.length - 1]!;
  return s;
}

/** Expected plain records for a set, to check any contender's output. */
export function expected(records: readonly BenchRecord[]): PlainRecord[] {
  return records.map((r, i) => ({ key: r.key, value: r.value, timestamp: r.timestamp, offset: i }));
}

/** First mismatch between two record lists, or undefined. */
export function mismatch(want: PlainRecord[], got: PlainRecord[]): string | undefined {
  if (want.length !== got.length) return `count ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (g.offset !== w.offset) return `record ${i}: offset ${g.offset} != ${w.offset}`;
    if (g.timestamp !== w.timestamp) return `record ${i}: timestamp ${g.timestamp} != ${w.timestamp}`;
    if (!eq(g.key, w.key)) return `record ${i}: key differs`;
    if (!eq(g.value, w.value)) return `record ${i}: value differs`;
  }
  return undefined;
}

function eq(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
