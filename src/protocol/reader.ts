/**
 * A bounds-checked cursor over one response frame. Kafka's bytes come from the network, so every length is
 * checked against the bytes that remain BEFORE anything is allocated or looped over: a hostile or corrupt frame
 * saying "2^31 elements" with 10 bytes left fails at once with a {@link DecodeError}, never a huge allocation.
 * Bytes fields are `subarray` views into the frame (zero copy); callers that keep them past the frame's life
 * copy them themselves.
 *
 * Types follow Kafka's protocol guide: int64 as `bigint`, UUIDs as Kafka's own 22-character base64url string
 * (what `Uuid.toString()` and the kafka CLI print), nullable strings/bytes as `null`.
 */
import { DecodeError } from '../errors.js';

const TWO_32 = 4294967296;

/** Sequential reader over `buf[offset, end)`. */
export class Reader {
  /** The frame being read. */
  readonly buf: Buffer;
  /** Next byte to read; public so that callers (record batches) can jump and resume. */
  offset: number;
  /** One past the last readable byte. */
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) throw new DecodeError(`invalid reader window [${offset}, ${end}) of ${buf.length} bytes`, offset);
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  /** Bytes left to read. */
  remaining(): number {
    return this.end - this.offset;
  }

  /** Throws a DecodeError unless `n` more bytes are there. */
  need(n: number): void {
    if (n > this.end - this.offset || n < 0) throw new DecodeError(`need ${n} bytes, ${this.end - this.offset} left`, this.offset);
  }

  /** A DecodeError located at the current offset, for callers' own checks. */
  error(message: string): DecodeError {
    return new DecodeError(message, this.offset);
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  /** int64 as a number; exact for safe integers (offsets, timestamps), rejected beyond 2^53. */
  int64Number(): number {
    this.need(8);
    const hi = this.buf.readInt32BE(this.offset);
    const lo = this.buf.readUInt32BE(this.offset + 4);
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new DecodeError('int64 beyond the safe integer range', this.offset);
    this.offset += 8;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Kafka's boolean: any non-zero byte is true (as the Java client reads it). */
  bool(): boolean {
    this.need(1);
    return this.buf[this.offset++] !== 0;
  }

  /** Unsigned 32-bit varint (KIP-482 lengths and tags); at most 5 bytes. */
  uvarint(): number {
    const buf = this.buf;
    let off = this.offset;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (off >= this.end) throw new DecodeError('truncated varint', off);
      const b = buf[off++]!;
      if (shift === 28 && b > 0x0f) throw new DecodeError('varint longer than 32 bits', off - 1);
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = off;
        return value >>> 0;
      }
    }
    throw new DecodeError('varint longer than 5 bytes', off);
  }

  /** Zig-zag signed 32-bit varint (record fields). */
  varint(): number {
    const v = this.uvarint();
    return (v >>> 1) ^ -(v & 1);
  }

  /** Zig-zag signed 64-bit varlong as a bigint; at most 10 bytes. */
  varlong(): bigint {
    const buf = this.buf;
    let off = this.offset;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (off >= this.end) throw new DecodeError('truncated varlong', off);
      const b = buf[off++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = off;
        value = BigInt.asUintN(64, value);
        return (value >> 1n) ^ -(value & 1n);
      }
    }
    throw new DecodeError('varlong longer than 10 bytes', off);
  }

  /** Zig-zag varlong as a number without bigint; DecodeError when it is not a safe integer. */
  varlongNumber(): number {
    const buf = this.buf;
    let off = this.offset;
    if (off >= this.end) throw new DecodeError('truncated varlong', off);
    // zig-zag = 2m + sign: the first byte holds the sign and 6 bits of m, so m stays exact up to 2^53.
    let b = buf[off++]!;
    const sign = b & 1;
    let m = (b & 0x7f) >>> 1;
    let mul = 64;
    for (let i = 1; b >= 0x80; i++) {
      if (i === 10) throw new DecodeError('varlong longer than 10 bytes', off);
      if (off >= this.end) throw new DecodeError('truncated varlong', off);
      b = buf[off++]!;
      m += (b & 0x7f) * mul;
      mul *= 128;
    }
    if (m > Number.MAX_SAFE_INTEGER) throw new DecodeError('varlong beyond the safe integer range', this.offset);
    this.offset = off;
    return sign ? -m - 1 : m;
  }

  /** UTF-8 text of `len` bytes. */
  utf8(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  /** A view of the next `len` bytes (no copy). */
  view(len: number): Buffer {
    this.need(len);
    const v = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return v;
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new DecodeError(`null or negative length ${len} for a non-nullable string`, this.offset - 2);
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`invalid string length ${len}`, this.offset - 2);
    return this.utf8(len);
  }

  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new DecodeError('null for a non-nullable compact string', this.offset - 1);
    return this.utf8(n - 1);
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }

  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new DecodeError(`null or negative length ${len} for non-nullable bytes`, this.offset - 4);
    return this.view(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`invalid bytes length ${len}`, this.offset - 4);
    return this.view(len);
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new DecodeError('null for non-nullable compact bytes', this.offset - 1);
    return this.view(n - 1);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.view(n - 1);
  }

  /** 16 bytes as Kafka's base64url text (22 characters, e.g. `AAAAAAAAAAAAAAAAAAAAAA` for the zero UUID). */
  uuid(): string {
    this.need(16);
    const s = this.buf.toString('base64url', this.offset, this.offset + 16);
    this.offset += 16;
    return s;
  }

  /**
   * An int32 array count, -1 meaning null. Checked against the bytes left assuming each element takes at
   * least `minElementSize` bytes, so a hostile count fails before any loop or allocation.
   */
  arrayLength(minElementSize = 1): number {
    const n = this.int32();
    if (n < -1) throw new DecodeError(`invalid array length ${n}`, this.offset - 4);
    if (n > 0) this.checkCount(n, minElementSize, 4);
    return n;
  }

  /** A compact array count (uvarint N+1, 0 meaning null); returns -1 for null. Checked as {@link arrayLength}. */
  compactArrayLength(minElementSize = 1): number {
    const start = this.offset;
    const n = this.uvarint() - 1;
    if (n > 0) this.checkCount(n, minElementSize, this.offset - start);
    return n;
  }

  private checkCount(n: number, minElementSize: number, prefix: number): void {
    if (n * Math.max(minElementSize, 1) > this.end - this.offset && minElementSize > 0) {
      throw new DecodeError(`array of ${n} elements cannot fit in ${this.end - this.offset} bytes`, this.offset - prefix);
    }
    // Elements that may take zero bytes still cannot outnumber what a frame could sensibly hold.
    if (minElementSize === 0 && n > this.buf.length) throw new DecodeError(`array of ${n} empty elements`, this.offset - prefix);
  }

  /** A non-null int32-counted array of elements read by `read`. */
  array<T>(read: (r: Reader) => T, minElementSize = 1): T[] {
    const n = this.arrayLength(minElementSize);
    if (n < 0) throw new DecodeError('null for a non-nullable array', this.offset - 4);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  /** A non-null compact array of elements read by `read`. */
  compactArray<T>(read: (r: Reader) => T, minElementSize = 1): T[] {
    const n = this.compactArrayLength(minElementSize);
    if (n < 0) throw new DecodeError('null for a non-nullable compact array', this.offset - 1);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  /**
   * A tagged-field section (KIP-482): calls `onTag(tag, size)` for each field, which must read exactly `size`
   * bytes or return false to have the field skipped.
   */
  taggedFields(onTag: (tag: number, size: number, r: Reader) => boolean): void {
    const count = this.uvarint();
    if (count > this.end - this.offset) throw new DecodeError(`${count} tagged fields cannot fit`, this.offset);
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      this.need(size);
      const stop = this.offset + size;
      if (!onTag(tag, size, this)) this.offset = stop;
      else if (this.offset !== stop) throw new DecodeError(`tagged field ${tag} used ${this.offset - (stop - size)} of ${size} bytes`, this.offset);
    }
  }
}
