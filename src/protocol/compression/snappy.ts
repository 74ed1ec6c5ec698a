/**
 * Snappy, pure TypeScript: the raw block format (compress and decompress) and the xerial stream framing that
 * the Java client's SnappyOutputStream writes for Kafka (magic `\x82SNAPPY\0`, two int32 versions, then
 * `[int32 length][raw snappy block]` chunks). {@link snappyDecompress} accepts both, as Kafka brokers do.
 * Written from Google's format description (format_description.txt) and snappy-java's stream header.
 */
import { DecodeError } from '../../errors.js';
import { copyLiteral, copyMatch, DEFAULT_MAX_DECOMPRESSED_BYTES, matchLength, plain } from './byte-sink.js';

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER = 16;
/** snappy-java's default stream block size; Kafka's producer uses it. */
const XERIAL_CHUNK = 32 * 1024;
/** Snappy compresses in independent 64 KiB fragments, so every copy offset fits in 16 bits. */
const FRAGMENT = 65536;
const HASH_BITS = 14;

// ----------------------------------------------------------------------------------------------------------
// Raw block format
// ----------------------------------------------------------------------------------------------------------

/** Worst-case size of a raw snappy block for `n` input bytes. */
function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/** Compresses `src` as one raw snappy block (uvarint length, then literal/copy elements). */
export function snappyCompressRaw(data: Uint8Array): Buffer {
  const src = plain(data);
  const outBuf = Buffer.allocUnsafe(maxCompressedLength(src.length));
  const out = plain(outBuf);
  const o = compressRawInto(src, new DataView(src.buffer, src.byteOffset, src.length), 0, src.length, out, new DataView(out.buffer, out.byteOffset, out.length), 0);
  return outBuf.subarray(0, o);
}

function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/**
 * One hash table for every call (compression is synchronous), sized per block as the reference does: the
 * smallest power of two covering the input, at least 256 entries, so a small batch does not clear 16K entries.
 */
const TABLE = new Uint16Array(1 << HASH_BITS);

/** Writes `src[start, end)` as one raw block at `out[o..]` (room for {@link maxCompressedLength}); returns the end. */
function compressRawInto(src: Uint8Array, view: DataView, start: number, end: number, out: Uint8Array, outView: DataView, o: number): number {
  let v = end - start;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  for (let from = start; from < end; from += FRAGMENT) {
    o = compressFragment(src, view, from, Math.min(from + FRAGMENT, end), out, outView, o);
  }
  return o;
}

function compressFragment(src: Uint8Array, view: DataView, start: number, end: number, out: Uint8Array, outView: DataView, o: number): number {
  let bits = 8;
  while (bits < HASH_BITS && 1 << bits < end - start) bits++;
  const table = TABLE;
  // Entries are offsets from `start` (a fragment is at most 64 KiB); 0 means `start` itself, a real earlier
  // position once probing begins at `start + 1`, so an empty slot needs no test of its own.
  table.fill(0, 0, 1 << bits);
  const shift = 32 - bits;
  let lit = start;
  let i = start + 1;
  const limit = end - 4;
  // The reference's skip heuristic: after 32 misses in a row probe every 2nd byte, after 64 every 3rd, and so
  // on, so incompressible stretches cost little; a match resets it.
  let skip = 32;
  while (i < limit) {
    const cur = view.getInt32(i, true);
    const h = Math.imul(cur, 0x1e35a7bd) >>> shift;
    const cand = start + table[h]!;
    table[h] = i - start;
    if (view.getInt32(cand, true) !== cur) {
      i += skip++ >>> 5;
      continue;
    }
    skip = 32;
    const len = 4 + matchLength(src, view, cand + 4, i + 4, end);
    o = emitLiteral(src, view, lit, i, out, outView, o);
    o = emitCopy(out, o, i - cand, len);
    i += len;
    lit = i;
    if (i - 1 < limit) table[Math.imul(view.getInt32(i - 1, true), 0x1e35a7bd) >>> shift] = i - 1 - start;
  }
  return emitLiteral(src, view, lit, end, out, outView, o);
}

function emitLiteral(src: Uint8Array, view: DataView, from: number, to: number, out: Uint8Array, outView: DataView, o: number): number {
  const n = to - from;
  if (n === 0) return o;
  const m = n - 1;
  if (m < 60) out[o++] = m << 2;
  else if (m < 0x100) {
    out[o++] = 60 << 2;
    out[o++] = m;
  } else {
    out[o++] = 61 << 2;
    out[o++] = m & 0xff;
    out[o++] = m >>> 8;
  }
  copyLiteral(src, view, from, out, outView, o, n);
  return o + n;
}

function emitCopy(out: Uint8Array, o: number, offset: number, len: number): number {
  // Copies are at most 64 bytes; keep the last piece at least 4 long so the 1-byte-offset form stays usable.
  while (len >= 68) {
    o = copy2(out, o, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    o = copy2(out, o, offset, 60);
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    out[o++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[o++] = offset & 0xff;
    return o;
  }
  return copy2(out, o, offset, len);
}

function copy2(out: Uint8Array, o: number, offset: number, len: number): number {
  out[o++] = 2 | ((len - 1) << 2);
  out[o++] = offset & 0xff;
  out[o++] = offset >>> 8;
  return o;
}

/** Reads the uncompressed length preamble of a raw block; returns [length, bytes used]. */
function readLength(src: Uint8Array, start: number, end: number): [number, number] {
  let v = 0;
  for (let i = 0, shift = 0; i < 5; i++, shift += 7) {
    if (start + i >= end) throw new DecodeError('snappy: truncated length', start + i);
    const b = src[start + i]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, i + 1];
  }
  throw new DecodeError('snappy: length varint too long', start);
}

/**
 * The uncompressed length that the raw block `src[start, end)` declares, checked before anything is allocated
 * for it: no more than its input can expand to (a 3-byte copy element yields at most 64 bytes, so ~21x; we
 * allow 32x + 64) and no more than is left of the `max`-byte cap once `used` bytes are spoken for.
 */
function declaredLength(src: Uint8Array, start: number, end: number, used: number, max: number): number {
  const length = readLength(src, start, end)[0];
  if (length > (end - start) * 32 + 64) throw new DecodeError(`snappy: claimed length ${length} impossible for ${end - start} input bytes`, start);
  if (length > max - used) throw new DecodeError(`snappy: decompressed data exceeds the ${max}-byte limit (a block declares ${length} bytes)`, start);
  return length;
}

/**
 * Decodes one raw block `src[start, end)` into `out` at `o`, where the caller made room for the length it
 * declares ({@link declaredLength}); returns the end. Writes every byte of `[o, o + length)` or throws.
 */
function decompressRawInto(src: Uint8Array, srcView: DataView, start: number, end: number, out: Uint8Array, outView: DataView, o: number): number {
  const [length, used] = readLength(src, start, end);
  if (length > out.length - o) throw new DecodeError(`snappy: block of ${length} bytes overruns the output`, start);
  const base = o;
  const stop = base + length;
  let i = start + used;
  while (i < end) {
    const tag = src[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const extra = n - 59;
        if (i + extra > end) throw new DecodeError('snappy: truncated literal length', i);
        n = 0;
        for (let k = 0; k < extra; k++) n += src[i + k]! * 2 ** (8 * k);
        i += extra;
      }
      n += 1;
      if (n > end - i || n > stop - o) throw new DecodeError('snappy: literal overruns', i);
      copyLiteral(src, srcView, i, out, outView, o, n);
      i += n;
      o += n;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (i >= end) throw new DecodeError('snappy: truncated copy', i);
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[i++]!;
    } else if (kind === 2) {
      if (i + 2 > end) throw new DecodeError('snappy: truncated copy', i);
      len = (tag >>> 2) + 1;
      offset = src[i]! | (src[i + 1]! << 8);
      i += 2;
    } else {
      if (i + 4 > end) throw new DecodeError('snappy: truncated copy', i);
      len = (tag >>> 2) + 1;
      offset = load32(src, i) >>> 0;
      i += 4;
    }
    if (offset === 0 || offset > o - base) throw new DecodeError(`snappy: copy offset ${offset} out of range`, i);
    if (len > stop - o) throw new DecodeError('snappy: copy overruns', i);
    copyMatch(out, outView, o, offset, len);
    o += len;
  }
  if (o !== stop) throw new DecodeError(`snappy: produced ${o - base} of ${length} bytes`, i);
  return o;
}

// ----------------------------------------------------------------------------------------------------------
// Xerial framing (snappy-java's SnappyOutputStream), what Kafka's Java client writes
// ----------------------------------------------------------------------------------------------------------

function isXerial(src: Uint8Array): boolean {
  if (src.length < XERIAL_HEADER) return false;
  for (let i = 0; i < 8; i++) if (src[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Compresses as Kafka's Java producer does: xerial header, then 32 KiB chunks each as a raw block. */
export function snappyCompress(data: Uint8Array): Buffer {
  const src = plain(data);
  const chunks = Math.ceil(src.length / XERIAL_CHUNK);
  const outBuf = Buffer.allocUnsafe(XERIAL_HEADER + chunks * (4 + maxCompressedLength(XERIAL_CHUNK)));
  const out = plain(outBuf);
  const view = new DataView(src.buffer, src.byteOffset, src.length);
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  out.set(XERIAL_MAGIC, 0);
  outView.setInt32(8, 1);
  outView.setInt32(12, 1);
  let o = XERIAL_HEADER;
  for (let start = 0; start < src.length; start += XERIAL_CHUNK) {
    const next = compressRawInto(src, view, start, Math.min(start + XERIAL_CHUNK, src.length), out, outView, o + 4);
    outView.setInt32(o, next - o - 4);
    o = next;
  }
  return outBuf.subarray(0, o);
}

/** The length of the xerial chunk whose int32 header is at `i`, checked against the input. */
function chunkLength(src: Uint8Array, i: number): number {
  if (i + 4 > src.length) throw new DecodeError('snappy: truncated xerial chunk length', i);
  const n = ((src[i]! << 24) | (src[i + 1]! << 16) | (src[i + 2]! << 8) | src[i + 3]!) >>> 0;
  if (n > src.length - i - 4) throw new DecodeError(`snappy: xerial chunk of ${n} bytes overruns`, i + 4);
  return n;
}

/**
 * Decompresses a xerial-framed stream or a raw snappy block, output capped at `maxBytes`. The output is
 * allocated once, at exactly the size the blocks declare (checked against the cap first), and left
 * uninitialised: each block either writes all of its declared bytes or throws.
 */
export function snappyDecompress(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const src = plain(data);
  const srcView = new DataView(src.buffer, src.byteOffset, src.length);
  const xerial = isXerial(src);
  let total = 0;
  if (!xerial) total = declaredLength(src, 0, src.length, 0, maxBytes);
  else {
    // Walk the chunk headers first, adding up what their blocks declare (a varint at each chunk's start).
    for (let i = XERIAL_HEADER; i < src.length; ) {
      const n = chunkLength(src, i);
      total += declaredLength(src, i + 4, i + 4 + n, total, maxBytes);
      i += 4 + n;
    }
  }
  const outBuf = Buffer.allocUnsafe(total);
  const out = plain(outBuf);
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  if (!xerial) {
    decompressRawInto(src, srcView, 0, src.length, out, outView, 0);
    return outBuf;
  }
  let o = 0;
  for (let i = XERIAL_HEADER; i < src.length; ) {
    const n = chunkLength(src, i);
    o = decompressRawInto(src, srcView, i + 4, i + 4 + n, out, outView, o);
    i += 4 + n;
  }
  return outBuf;
}
