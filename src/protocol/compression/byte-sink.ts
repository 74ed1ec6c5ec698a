/**
 * Output buffers and copy helpers shared by the pure-TS decompressors. Compressed data from the network may
 * claim any size; the cap (see {@link DEFAULT_MAX_DECOMPRESSED_BYTES}) turns a decompression bomb into a
 * {@link DecodeError} instead of an out-of-memory crash. Decoders size their output from what the format
 * says (a declared length, a block maximum), checked against the cap before allocating, never beyond it.
 */
import { DecodeError } from '../../errors.js';
import { allocOwned } from '../alloc.js';

/**
 * Default cap on one decompressed batch: 256 MiB. Kafka's own limits (message.max.bytes, fetch.max.bytes) are
 * far below this for compressed bytes; ratios above ~250x only come from bombs or degenerate data.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * The same bytes as a plain Uint8Array: Buffer's subarray takes a slow species path that costs more than
 * copying a short literal, so the codecs' inner loops work on plain views.
 */
export function plain(data: Uint8Array): Uint8Array {
  return data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * The DecodeError for a failure of node:zlib's native decoder (gzip, zstd): running into `maxOutputLength` is
 * reported as every other path reports its cap (naming the byte limit: the reader's maxDecompressedBytes), not as
 * node:zlib's "Cannot create a Buffer larger than" RangeError; any other error keeps its message.
 */
export function nativeDecodeError(codec: string, err: unknown, maxBytes: number): DecodeError {
  const tooLarge = (err as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
  const text = tooLarge ? `decompressed data exceeds the ${maxBytes}-byte limit (maxDecompressedBytes)` : (err as Error).message;
  return new DecodeError(`${codec}: ${text}`, undefined, { cause: err });
}

/** Past this size a sink grows in place (a resizable ArrayBuffer) instead of into a copy twice as large. */
const GROW_IN_PLACE_FROM = 1 << 20;

/** Resizable ArrayBuffers (ES2024): Node 20+, Bun, Deno. Without them, sinks grow by copying. */
const canResize = typeof (ArrayBuffer.prototype as { resize?: unknown }).resize === 'function';

type Resizable = ArrayBuffer & { resize(n: number): void; readonly maxByteLength: number };

/**
 * A growable output buffer with a hard cap. The buffer is not zero-filled: bytes past `pos` are uninitialised,
 * so decoders read only below `pos` (every back-reference is checked against what was written) and
 * {@link ByteSink.result} hands out only `[0, pos)`. Callers size `initial` from what the format tells them
 * (a content size, block bounds), already clipped to the cap, so the common case never grows.
 *
 * Memory: small outputs grow by doubling into a new buffer; past {@link GROW_IN_PLACE_FROM} the bytes move once
 * into a resizable ArrayBuffer reserved up to the cap, which then grows in place. So a bomb that runs into the
 * cap holds about the cap (plus the initial size) at its peak, not the 1.5-2.5x of copies and their garbage.
 */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;
  readonly max: number;
  private backing: Buffer;
  private resizable: Resizable | undefined;

  constructor(initial: number, max: number) {
    this.max = max;
    this.backing = allocOwned(Math.max(64, Math.min(initial, max)));
    this.buf = plain(this.backing);
  }

  /** Makes room for `n` more bytes, or throws a DecodeError when that would pass the cap. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max) throw new DecodeError(`decompressed data exceeds the ${this.max}-byte limit`);
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    size = Math.min(size, this.max);
    if (canResize && size > GROW_IN_PLACE_FROM) { this.growInPlace(size); return; }
    const next = allocOwned(size);
    next.set(this.buf.subarray(0, this.pos));
    this.backing = next;
    this.buf = plain(next);
  }

  private growInPlace(size: number): void {
    let ab = this.resizable;
    if (ab === undefined) {
      ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(size, { maxByteLength: this.max });
      new Uint8Array(ab, 0, this.pos).set(this.buf.subarray(0, this.pos));
      this.resizable = ab;
    } else {
      ab.resize(size);
    }
    this.backing = Buffer.from(ab, 0, size);
    this.buf = new Uint8Array(ab, 0, size);
  }

  /** Appends `src[start, end)`. */
  append(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  /** The bytes written, as a Buffer view of `[0, pos)` (no copy). */
  result(): Buffer {
    return this.backing.subarray(0, this.pos);
  }

  /**
   * As {@link result}, but copied to an exact-size buffer when more than an eighth of the capacity went unused,
   * so a small batch decoded into a block-sized buffer does not pin that buffer for as long as its records live.
   * A sink that grew in place shrinks in place instead.
   */
  trimmedResult(): Buffer {
    if (this.buf.length - this.pos <= this.buf.length >>> 3) return this.result();
    if (this.resizable !== undefined) {
      this.resizable.resize(this.pos);
      this.backing = Buffer.from(this.resizable, 0, this.pos);
      this.buf = new Uint8Array(this.resizable, 0, this.pos);
      return this.backing;
    }
    const out = allocOwned(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }
}

// ----------------------------------------------------------------------------------------------------------
// Copy helpers shared by the LZ77-family codecs (snappy, lz4)
// ----------------------------------------------------------------------------------------------------------

/**
 * How many bytes at `a` equal those at `b` (with `a < b`), not reading past `end`: 4 at a time, the first
 * differing byte of a word found from its lowest set bit (little-endian loads).
 */
export function matchLength(src: Uint8Array, view: DataView, a: number, b: number, end: number): number {
  let n = 0;
  const words = end - b - 3;
  while (n < words) {
    const x = view.getInt32(a + n, true) ^ view.getInt32(b + n, true);
    if (x !== 0) return n + ((31 - Math.clz32(x & -x)) >>> 3);
    n += 4;
  }
  while (b + n < end && src[a + n] === src[b + n]) n++;
  return n;
}

/**
 * Copies `n` bytes `src[i..]` to `out[o..]` (distinct buffers). Short runs go 4 bytes at a time through
 * DataViews (unaligned 32-bit loads and stores, the last word aligned to the end), which beats both a byte loop
 * and `set(subarray())`, whose view allocation costs as much as copying ~100 bytes.
 */
export function copyLiteral(src: Uint8Array, srcView: DataView, i: number, out: Uint8Array, outView: DataView, o: number, n: number): void {
  if (n < 4) {
    for (let k = 0; k < n; k++) out[o + k] = src[i + k]!;
  } else if (n <= 96) {
    const last = n - 4;
    for (let k = 0; k < last; k += 4) outView.setUint32(o + k, srcView.getUint32(i + k, true), true);
    outView.setUint32(o + last, srcView.getUint32(i + last, true), true);
  } else {
    out.set(src.subarray(i, i + n), o);
  }
}

/**
 * Copies a back-reference: `len` bytes from `offset` bytes back, where the source may overlap the destination
 * (a repeating pattern). Word copies are exact whenever `offset >= 4`: each word reads bytes already final.
 * Long copies use `copyWithin`, in offset-sized pieces that double while they overlap.
 */
export function copyMatch(out: Uint8Array, view: DataView, o: number, offset: number, len: number): void {
  if (offset >= 4 && len >= 4 && (len <= 32 || (offset < len && len <= 64))) {
    const from = o - offset;
    const last = len - 4;
    for (let k = 0; k < last; k += 4) view.setUint32(o + k, view.getUint32(from + k, true), true);
    view.setUint32(o + last, view.getUint32(from + last, true), true);
  } else if (len < 16) {
    for (let k = 0; k < len; k++) out[o + k] = out[o + k - offset]!;
  } else if (offset === 1) {
    out.fill(out[o - 1]!, o, o + len);
  } else {
    // [o - offset, o + done) repeats with period `offset`, and so stays after each piece is appended.
    const from = o - offset;
    for (let done = 0; done < len; ) {
      const n = Math.min(offset + done, len - done);
      out.copyWithin(o + done, from, from + n);
      done += n;
    }
  }
}
