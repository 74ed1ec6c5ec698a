/**
 * One growable buffer per request. The 4-byte size prefix is reserved up front and patched at the end
 * ({@link Writer.reserveInt32} / {@link Writer.patchInt32}), strings are written as UTF-8 straight into the
 * buffer (no temporary Buffer), and varints are plain arithmetic. Growth doubles, so a request costs a few
 * allocations at most; {@link Writer.reset} lets a caller reuse one writer for many requests.
 *
 * Types mirror {@link Reader}: int64 as `bigint` (with number fast paths), UUIDs as Kafka's 22-character
 * base64url string, nullable strings/bytes as `null`.
 */
import { InvalidArgumentError } from '../errors.js';
import { sizeOfUnsignedVarint, sizeOfVarlong, sizeOfVarlongNumber } from './varint.js';

const TWO_32 = 4294967296;
const UUID_TEXT = /^[A-Za-z0-9_-]{22}$/;
/** Below this, {@link Writer.ref} copies: an extra iovec costs more than copying a few KiB. */
const REF_MIN_BYTES = 4096;

/** Bytes referenced, not copied: they stand before `buf[at]` in the output. */
interface ByteRef {
  at: number;
  bytes: Uint8Array;
}

/** Sequential writer; `finish()` returns a view of the bytes written. */
export class Writer {
  /** Current backing store; replaced when it grows, so never keep a reference across writes. */
  buf: Buffer;
  /** Next byte to write in `buf` (the bytes written so far, less those only referenced: see {@link size}). */
  offset = 0;
  /** Large byte strings referenced by {@link ref}, in order; undefined while there are none. */
  private refs: ByteRef[] | undefined;
  private refBytes = 0;

  /** `initial`: a starting size, or a buffer to write into (a pooled one; it is replaced if it must grow). */
  constructor(initial: number | Buffer = 256) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(Math.max(16, initial)) : initial;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.offset + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  /** Starts over, keeping the grown buffer (bytes previously returned by finish() are then overwritten). */
  reset(): this {
    this.offset = 0;
    this.refs = undefined;
    this.refBytes = 0;
    return this;
  }

  /** Bytes written so far, referenced ones included: the length of what {@link finish} returns. */
  get size(): number {
    return this.offset + this.refBytes;
  }

  /** Everything written as one buffer: a view when nothing was referenced, else joined (one copy). */
  finish(): Buffer {
    if (this.refs === undefined) return this.buf.subarray(0, this.offset);
    return Buffer.concat(this.chunks(), this.size);
  }

  /**
   * Everything written as the buffers to send one after another, without copying referenced bytes: what a
   * socket's vectored write takes (a Produce request's record batches go to the kernel straight from where
   * they were encoded).
   */
  finishChunks(): Buffer[] {
    return this.refs === undefined ? [this.buf.subarray(0, this.offset)] : this.chunks();
  }

  private chunks(): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    for (const r of this.refs!) {
      if (r.at > from) out.push(this.buf.subarray(from, r.at));
      out.push(Buffer.isBuffer(r.bytes) ? r.bytes : Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength));
      from = r.at;
    }
    if (this.offset > from) out.push(this.buf.subarray(from, this.offset));
    return out;
  }

  /** Referenced bytes that come after position `at` of `buf`. */
  private refBytesAfter(at: number): number {
    if (this.refs === undefined) return 0;
    let n = 0;
    for (const r of this.refs) if (r.at > at) n += r.bytes.length;
    return n;
  }

  /**
   * Opens a gap of `n` bytes at `at` (moving what follows, referenced bytes included), for a size prefix that
   * turned out longer than guessed.
   */
  widen(at: number, n: number): void {
    this.ensure(n);
    this.buf.copyWithin(at + n, at, this.offset);
    this.offset += n;
    // A reference at `at` was made after the bytes before `at`: it moves with what follows.
    if (this.refs !== undefined) for (const r of this.refs) if (r.at >= at) r.at += n;
  }

  /** Bytes written after position `at`, referenced ones included. */
  sizeFrom(at: number): number {
    return this.offset - at + this.refBytesAfter(at);
  }

  /** Reserves 4 bytes (e.g. the frame size or a batch length) and returns their position for {@link patchInt32}. */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.offset;
    this.offset += 4;
    return at;
  }

  patchInt32(at: number, value: number): void {
    this.buf.writeInt32BE(value, at);
  }

  /** Patches the reserved int32 at `at` with the number of bytes written after it (the usual size prefix). */
  patchSizeFrom(at: number): void {
    this.buf.writeInt32BE(this.sizeFrom(at) - 4, at);
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset++);
    return this;
  }

  uint8(v: number): this {
    this.ensure(1);
    this.buf[this.offset++] = v;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  int64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.offset);
    this.offset += 8;
    return this;
  }

  /** int64 from a safe-integer number, without going through bigint. */
  int64Number(v: number): this {
    if (!Number.isSafeInteger(v)) throw new InvalidArgumentError(`int64 value ${v} is not a safe integer`);
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    this.buf.writeInt32BE(hi, this.offset);
    this.buf.writeUInt32BE(v - hi * TWO_32, this.offset + 4);
    this.offset += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.offset++] = v ? 1 : 0;
    return this;
  }

  /**
   * Unsigned 32-bit varint (KIP-482). Room is checked for the varint's own length, not its 5-byte maximum: an
   * exactly sized writer (the record batch encoder's) must not grow, and copy everything, for its last byte.
   */
  uvarint(value: number): this {
    let v = value >>> 0;
    if (this.offset + 5 > this.buf.length) this.ensure(sizeOfUnsignedVarint(v));
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.offset++] = v;
    return this;
  }

  /** Zig-zag signed 32-bit varint. */
  varint(value: number): this {
    return this.uvarint((value << 1) ^ (value >> 31));
  }

  /** Zig-zag signed 64-bit varlong from a bigint. */
  varlong(value: bigint): this {
    if (this.offset + 10 > this.buf.length) this.ensure(sizeOfVarlong(value));
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (v >= 0x80n) {
      this.buf[this.offset++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.offset++] = Number(v);
    return this;
  }

  /** Zig-zag varlong from a safe-integer number, without bigint (timestamps, deltas). */
  varlongNumber(value: number): this {
    if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`varlong value ${value} is not a safe integer`);
    // zig-zag = 2m + sign; kept as (m, sign) so that values near 2^53 stay exact in a double.
    const sign = value < 0 ? 1 : 0;
    const m = sign ? -value - 1 : value;
    if (this.offset + 10 > this.buf.length) this.ensure(sizeOfVarlongNumber(value));
    let v = Math.floor(m / 64);
    if (v === 0) {
      this.buf[this.offset++] = (m << 1) | sign;
      return this;
    }
    this.buf[this.offset++] = ((m % 64) << 1) | sign | 0x80;
    while (v >= 128) {
      this.buf[this.offset++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.offset++] = v;
    return this;
  }

  /** Raw bytes, no prefix. */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.offset);
    this.offset += bytes.length;
    return this;
  }

  /**
   * Raw bytes, no prefix, referenced rather than copied when large: the caller must leave them unchanged until
   * the output of {@link finish} / {@link finishChunks} is used up.
   */
  ref(bytes: Uint8Array): this {
    if (bytes.length < REF_MIN_BYTES) return this.raw(bytes);
    (this.refs ??= []).push({ at: this.offset, bytes });
    this.refBytes += bytes.length;
    return this;
  }

  /** UTF-8 text of a known byte length, no prefix. */
  utf8(s: string, byteLength: number): this {
    this.ensure(byteLength);
    this.offset += this.buf.write(s, this.offset, byteLength, 'utf8');
    return this;
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new InvalidArgumentError(`string of ${len} bytes exceeds the int16 length limit`);
    return this.int16(len).utf8(s, len);
  }

  nullableString(s: string | null | undefined): this {
    return s == null ? this.int16(-1) : this.string(s);
  }

  compactString(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    return this.uvarint(len + 1).utf8(s, len);
  }

  compactNullableString(s: string | null | undefined): this {
    return s == null ? this.uvarint(0) : this.compactString(s);
  }

  bytes(b: Uint8Array): this {
    return this.int32(b.length).raw(b);
  }

  nullableBytes(b: Uint8Array | null | undefined): this {
    return b == null ? this.int32(-1) : this.bytes(b);
  }

  compactBytes(b: Uint8Array): this {
    return this.uvarint(b.length + 1).raw(b);
  }

  compactNullableBytes(b: Uint8Array | null | undefined): this {
    return b == null ? this.uvarint(0) : this.compactBytes(b);
  }

  /** A UUID given as Kafka's 22-character base64url text (see {@link Reader.uuid}). */
  uuid(id: string): this {
    if (!UUID_TEXT.test(id)) throw new InvalidArgumentError(`UUID ${JSON.stringify(id)} is not 22 base64url characters`);
    this.ensure(16);
    this.buf.write(id, this.offset, 16, 'base64url');
    this.offset += 16;
    return this;
  }

  /** An int32 array count (-1 for null). */
  arrayLength(n: number): this {
    return this.int32(n);
  }

  /** A compact array count: N+1, or 0 for null (pass -1). */
  compactArrayLength(n: number): this {
    return this.uvarint(n + 1);
  }

  /** A non-null int32-counted array written element by element. */
  array<T>(items: readonly T[], write: (w: Writer, item: T) => void): this {
    this.int32(items.length);
    for (let i = 0; i < items.length; i++) write(this, items[i]!);
    return this;
  }

  /** A non-null compact array written element by element. */
  compactArray<T>(items: readonly T[], write: (w: Writer, item: T) => void): this {
    this.uvarint(items.length + 1);
    for (let i = 0; i < items.length; i++) write(this, items[i]!);
    return this;
  }

  /** An empty tagged-field section (KIP-482): the common case in flexible versions. */
  emptyTaggedFields(): this {
    return this.uint8(0);
  }
}
