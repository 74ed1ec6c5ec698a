/**
 * Sizes of Kafka's variable-length integers (KIP-482 unsigned varints, zig-zag varints and varlongs of the
 * record format). Encoders need a size before writing a length prefix or a tagged field, so these are shared
 * by the writer, the schema compiler and the record-batch encoder. No allocation: plain arithmetic.
 */

/** Bytes an unsigned 32-bit varint takes (1 to 5). */
export function sizeOfUnsignedVarint(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a zig-zag encoded signed 32-bit varint takes (1 to 5). */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
}

/** Bytes a zig-zag encoded signed 64-bit varlong takes (1 to 10), for a bigint. */
export function sizeOfVarlong(value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/** Bytes a zig-zag varlong takes for a safe-integer number (the common case: timestamps, deltas). */
export function sizeOfVarlongNumber(value: number): number {
  // zig-zag = 2m + sign; the first byte carries 6 bits of m.
  let v = Math.floor((value < 0 ? -value - 1 : value) / 64);
  let n = 1;
  while (v > 0) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
