/**
 * LZ4, pure TypeScript, in the frame format that Kafka's Java client writes (KafkaLZ4BlockOutputStream, fixed
 * by KIP-57 to use a correct header checksum): magic 0x184D2204, FLG with version 1 and independent blocks,
 * BD with 64 KiB maximum blocks, HC = second byte of xxHash32 of the descriptor, then blocks of
 * `[int32 LE size | 0x80000000 when stored uncompressed][data]`, closed by a zero size. The decoder also honours
 * block checksums, content size and content checksum flags, which other writers (librdkafka) may set.
 * Written from the LZ4 frame and block format specifications.
 */
import { DecodeError } from '../../errors.js';
import { ByteSink, copyLiteral, copyMatch, DEFAULT_MAX_DECOMPRESSED_BYTES, matchLength, plain } from './byte-sink.js';
import { xxhash32 } from './xxhash32.js';

const MAGIC = 0x184d2204;
const BLOCK_SIZE = 64 * 1024;
/** 8192 16-bit entries, as the reference uses for inputs under 64 KiB: small enough to clear per block. */
const HASH_BITS = 13;
/** The block format's end rules: the last 5 bytes are literals, the last match starts 12 bytes before the end. */
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const BLOCK_MAX_SIZES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function writeLE32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = v >>> 24;
}

/** Compresses `src[start, end)` as one LZ4 block into `out` at `o`; returns the new end, or -1 if it did not shrink. */
function compressBlock(src: Uint8Array, view: DataView, start: number, end: number, out: Uint8Array, outView: DataView, o: number, table: Uint16Array): number {
  const limitOut = o + (end - start);
  // Entries are offsets from `start` (blocks are 64 KiB); 0 means `start` itself, a real earlier position once
  // probing begins at `start + 1`, so an empty slot needs no test of its own, and every offset fits 16 bits.
  table.fill(0);
  let anchor = start;
  let i = start + 1;
  const matchLimit = end - MF_LIMIT;
  let misses = 0;
  while (i < matchLimit) {
    const cur = view.getInt32(i, true);
    const h = Math.imul(cur, 0x9e3779b1) >>> (32 - HASH_BITS);
    const cand = start + table[h]!;
    table[h] = i - start;
    if (view.getInt32(cand, true) !== cur) {
      i += 1 + (misses++ >>> 6); // skip faster through incompressible stretches
      continue;
    }
    misses = 0;
    const len = 4 + matchLength(src, view, cand + 4, i + 4, end - LAST_LITERALS);
    const litLen = i - anchor;
    if (o + litLen + 16 + ((litLen + len) >>> 8) > limitOut) return -1;
    o = writeSequence(src, view, anchor, litLen, out, outView, o, i - cand, len - 4);
    i += len;
    anchor = i;
  }
  const litLen = end - anchor;
  if (o + litLen + 1 + Math.ceil(litLen / 255) > limitOut) return -1;
  return writeSequence(src, view, anchor, litLen, out, outView, o, 0, -1);
}

/** One sequence; `matchExtra` -1 means the final literals-only sequence. */
function writeSequence(src: Uint8Array, view: DataView, lit: number, litLen: number, out: Uint8Array, outView: DataView, o: number, offset: number, matchExtra: number): number {
  const tokenAt = o++;
  let token = (litLen >= 15 ? 15 : litLen) << 4;
  if (litLen >= 15) {
    let n = litLen - 15;
    for (; n >= 255; n -= 255) out[o++] = 255;
    out[o++] = n;
  }
  copyLiteral(src, view, lit, out, outView, o, litLen);
  o += litLen;
  if (matchExtra >= 0) {
    out[o++] = offset & 0xff;
    out[o++] = offset >>> 8;
    token |= matchExtra >= 15 ? 15 : matchExtra;
    if (matchExtra >= 15) {
      let n = matchExtra - 15;
      for (; n >= 255; n -= 255) out[o++] = 255;
      out[o++] = n;
    }
  }
  out[tokenAt] = token;
  return o;
}

/** Compresses `src` as a Kafka-style LZ4 frame. */
export function lz4Compress(data: Uint8Array): Buffer {
  const src = plain(data);
  const blocks = Math.max(1, Math.ceil(src.length / BLOCK_SIZE));
  const outBuf = Buffer.allocUnsafe(7 + blocks * (4 + BLOCK_SIZE) + 4);
  const out = plain(outBuf);
  writeLE32(out, 0, MAGIC);
  out[4] = 0x60; // version 01, block independence, no checksums, no content size
  out[5] = 0x40; // 64 KiB blocks
  out[6] = (xxhash32(out, 4, 6) >>> 8) & 0xff;
  let o = 7;
  const table = new Uint16Array(1 << HASH_BITS);
  const view = new DataView(src.buffer, src.byteOffset, src.length);
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  for (let start = 0; start < src.length; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, src.length);
    const next = compressBlock(src, view, start, end, out, outView, o + 4, table);
    if (next < 0) {
      writeLE32(out, o, (end - start) | 0x80000000);
      out.set(src.subarray(start, end), o + 4);
      o += 4 + end - start;
    } else {
      writeLE32(out, o, next - o - 4);
      o = next;
    }
  }
  writeLE32(out, o, 0);
  return outBuf.subarray(0, o + 4);
}

/**
 * Decodes one LZ4 block `src[i, end)` into `sink`, producing at most `maxOut` bytes (the frame's block
 * maximum, what the block's size allows, or what is left of a declared content size). Reads only output
 * already written: every match offset is checked against the bytes before it.
 */
function decompressBlock(src: Uint8Array, i: number, end: number, sink: ByteSink, maxOut: number): void {
  sink.ensure(Math.min(maxOut, sink.max - sink.pos));
  const out = sink.buf;
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  const srcView = new DataView(src.buffer, src.byteOffset, src.length);
  let o = sink.pos;
  const stop = Math.min(o + maxOut, sink.max);
  for (;;) {
    if (i >= end) throw new DecodeError('lz4: truncated sequence', i);
    const token = src[i++]!;
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (i >= end) throw new DecodeError('lz4: truncated literal length', i);
        b = src[i++]!;
        litLen += b;
      } while (b === 255);
    }
    if (litLen > end - i || litLen > stop - o) throw overrun(sink, o + litLen, 'lz4: literals overrun', i);
    copyLiteral(src, srcView, i, out, outView, o, litLen);
    i += litLen;
    o += litLen;
    if (i === end) break; // the last sequence has no match
    if (i + 2 > end) throw new DecodeError('lz4: truncated offset', i);
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o) throw new DecodeError(`lz4: match offset ${offset} out of range`, i);
    let len = (token & 15) + 4;
    if (len === 19) {
      let b: number;
      do {
        if (i >= end) throw new DecodeError('lz4: truncated match length', i);
        b = src[i++]!;
        len += b;
      } while (b === 255);
    }
    if (len > stop - o) throw overrun(sink, o + len, 'lz4: match overruns the block', i);
    copyMatch(out, outView, o, offset, len);
    o += len;
  }
  sink.pos = o;
}

/** An output that would end at `end`: past the sink's cap it is a bomb (said so), else a malformed block. */
function overrun(sink: ByteSink, end: number, what: string, at: number): DecodeError {
  return end > sink.max ? new DecodeError(`lz4: decompressed data exceeds the ${sink.max}-byte limit`) : new DecodeError(what, at);
}

/** The most a compressed block of `size` bytes can produce: a 255-byte match-length step per input byte. */
const MAX_EXPANSION = 255;

/**
 * An upper bound on what `src` decodes to, from the frame and block headers alone: a stored block gives its
 * size, a compressed one at most its frame's block maximum (and at most {@link MAX_EXPANSION}x its size), a
 * declared content size bounds its frame. Kafka's writers fill every block but a frame's last, so the bound
 * overshoots by less than one block. Stops at the first malformed header: decoding reports it.
 */
function outputBound(src: Uint8Array): number {
  const end = src.length;
  let total = 0;
  let i = 0;
  while (i + 7 <= end && (load32(src, i) >>> 0) === MAGIC) {
    const flg = src[i + 4]!;
    const blockMax = BLOCK_MAX_SIZES[(src[i + 5]! >>> 4) & 7]!;
    const declared = flg & 0x08 && i + 14 <= end ? src[i + 6]! + src[i + 7]! * 2 ** 8 + src[i + 8]! * 2 ** 16 + src[i + 9]! * 2 ** 24 + (load32(src, i + 10) >>> 0) * 2 ** 32 : Infinity;
    i += 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
    let frame = 0;
    for (;;) {
      if (i + 4 > end) return total + Math.min(frame, declared);
      const word = load32(src, i) >>> 0;
      i += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax || size > end - i) return total + Math.min(frame, declared);
      frame += word & 0x80000000 ? size : Math.min(blockMax, size * MAX_EXPANSION);
      i += size + (flg & 0x10 ? 4 : 0);
    }
    total += Math.min(frame, declared);
    i += flg & 0x04 ? 4 : 0;
  }
  return total;
}

/**
 * Decompresses one or more concatenated LZ4 frames; output capped at `maxBytes`. The output buffer is sized
 * once from {@link outputBound} (clipped to the cap), so decoding does not grow it, and is handed out
 * trimmed to the bytes written.
 */
export function lz4Decompress(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const src = plain(data);
  const sink = new ByteSink(Math.min(outputBound(src), maxBytes), maxBytes);
  let i = 0;
  do i = decodeFrame(src, i, sink);
  while (i < src.length);
  return sink.trimmedResult();
}

function decodeFrame(src: Uint8Array, i: number, sink: ByteSink): number {
  const end = src.length;
  if (i + 7 > end) throw new DecodeError('lz4: truncated frame header', i);
  if ((load32(src, i) >>> 0) !== MAGIC) throw new DecodeError('lz4: bad frame magic', i);
  const flg = src[i + 4]!;
  const bd = src[i + 5]!;
  if (flg >>> 6 !== 1) throw new DecodeError(`lz4: unsupported frame version ${flg >>> 6}`, i + 4);
  if (flg & 0x02 || bd & 0x8f) throw new DecodeError('lz4: reserved frame bits set', i + 4);
  const blockChecksum = (flg & 0x10) !== 0;
  const contentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMax = BLOCK_MAX_SIZES[(bd >>> 4) & 7]!;
  if (blockMax === 0) throw new DecodeError('lz4: invalid block maximum size', i + 5);
  const descEnd = i + 6 + (contentSize ? 8 : 0) + (src[i + 4]! & 0x01 ? 4 : 0);
  if (descEnd + 1 > end) throw new DecodeError('lz4: truncated frame descriptor', i);
  if (src[descEnd] !== ((xxhash32(src, i + 4, descEnd) >>> 8) & 0xff)) throw new DecodeError('lz4: frame header checksum mismatch', descEnd);
  // The content size is a 64-bit field; anything above 2^53 cannot match what we decode anyway.
  const declared = contentSize ? src[i + 6]! + src[i + 7]! * 2 ** 8 + src[i + 8]! * 2 ** 16 + src[i + 9]! * 2 ** 24 + (load32(src, i + 10) >>> 0) * 2 ** 32 : -1;
  if (declared > sink.max - sink.pos) throw new DecodeError(`lz4: content size ${declared} exceeds the ${sink.max}-byte limit`, i + 6);
  i = descEnd + 1;
  const frameStart = sink.pos;
  const frameLimit = declared >= 0 ? frameStart + declared : Infinity;
  for (;;) {
    if (i + 4 > end) throw new DecodeError('lz4: truncated block size', i);
    const word = load32(src, i) >>> 0;
    i += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax || size > end - i) throw new DecodeError(`lz4: block of ${size} bytes overruns`, i);
    if (blockChecksum && (i + size + 4 > end || (load32(src, i + size) >>> 0) !== xxhash32(src, i, i + size))) throw new DecodeError('lz4: block checksum mismatch', i);
    if (word & 0x80000000) {
      if (size > frameLimit - sink.pos) throw new DecodeError(`lz4: frame produces more than the ${declared} bytes its header said`, i);
      sink.append(src, i, i + size);
    } else decompressBlock(src, i, i + size, sink, Math.min(blockMax, size * MAX_EXPANSION, frameLimit - sink.pos));
    i += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (i + 4 > end) throw new DecodeError('lz4: truncated content checksum', i);
    if ((load32(src, i) >>> 0) !== xxhash32(sink.buf, frameStart, sink.pos)) throw new DecodeError('lz4: content checksum mismatch', i);
    i += 4;
  }
  if (declared >= 0 && declared !== sink.pos - frameStart) throw new DecodeError(`lz4: frame produced ${sink.pos - frameStart} bytes, header said ${declared}`, i);
  return i;
}
