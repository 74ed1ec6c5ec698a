/**
 * A pure-TypeScript zstd DECODER (RFC 8878), so every runtime can read zstd batches (KIP-110) even without
 * node:zlib's zstd: frames and skippable frames, raw / RLE / compressed blocks, raw / RLE / Huffman literals
 * (one or four streams, tree reuse), FSE sequences (predefined, RLE, described and repeated tables) and repeat
 * offsets. Dictionaries are not supported (Kafka never uses them). The optional content checksum (low 32 bits
 * of xxHash64) is verified when a frame has one; Kafka's Java client does not write it, the zstd CLI does.
 * Every size comes from checked fields, output is bounded by the caller's cap and by the 128 KiB block limit,
 * and back-references are checked against what this frame produced.
 */
import { DecodeError } from '../../errors.js';
import { ByteSink, DEFAULT_MAX_DECOMPRESSED_BYTES, plain } from './byte-sink.js';
import { xxhash64 } from './xxhash64.js';
import { LL_BASE, LL_BITS, LL_DEFAULT, ML_BASE, ML_BITS, ML_DEFAULT, OF_DEFAULT } from './zstd-tables.js';
import { BackwardBits, buildFseTable, readFseTable, readHuffmanTable, rleFseTable, type FseTable, type HuffmanTable } from './zstd-entropy.js';

const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

let predefined: [FseTable, FseTable, FseTable] | undefined;
function predefinedTables(): [FseTable, FseTable, FseTable] {
  predefined ??= [buildFseTable(LL_DEFAULT, 36, 6), buildFseTable(OF_DEFAULT, 29, 5), buildFseTable(ML_DEFAULT, 53, 6)];
  return predefined;
}

const LIT_BUF = new Uint8Array(BLOCK_MAX);

/** What carries over from block to block within a frame. */
class FrameState {
  reps = [1, 4, 8];
  huffman: HuffmanTable | null = null;
  ll: FseTable | null = null;
  of: FseTable | null = null;
  ml: FseTable | null = null;
  frameStart = 0;
  /** Literals of the current block: a view of the input (raw) or of `litBuf`. */
  lits: Uint8Array = new Uint8Array(0);
  litLen = 0;
  /** Shared scratch: decoding is synchronous, so one buffer serves every frame. */
  readonly litBuf = LIT_BUF;
  readonly bits = new BackwardBits();
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Decompresses one or more zstd frames (skippable frames are skipped); output capped at `maxBytes`. */
export function zstdDecompressPure(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const src = plain(data);
  const sink = new ByteSink(src.length * 4, maxBytes);
  walkFrames(src, (i) => decodeFrame(src, i, sink));
  return sink.result();
}

/**
 * Where the frames of `data` are, as flat [start, end, contentSize (-1 if not in the header), ...] triples
 * (skippable frames left out),
 * checking without decoding that every frame header, block header and checksum is there and every block inside
 * the input. node:zlib's one-shot decompression needs this: it returns what it has for a truncated frame (even
 * nothing) instead of failing, decodes only the first of several frames, and nothing after a skippable frame.
 */
export function zstdFrameSpans(data: Uint8Array): number[] {
  const src = plain(data);
  const spans: number[] = [];
  walkFrames(src, (i) => {
    const h = readFrameHeader(src, i);
    spans.push(i - 4);
    i = h.end;
    for (;;) {
      if (i + 3 > src.length) throw new DecodeError('zstd: truncated block header', i);
      const header = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16);
      i += 3;
      const type = (header >>> 1) & 3;
      const stored = type === 1 ? 1 : header >>> 3;
      if (type === 3) throw new DecodeError('zstd: reserved block type', i - 3);
      if (stored > src.length - i) throw new DecodeError('zstd: block overruns the input', i);
      i += stored;
      if (header & 1) break;
    }
    if (h.checksum) {
      if (i + 4 > src.length) throw new DecodeError('zstd: truncated content checksum', i);
      i += 4;
    }
    spans.push(i, h.contentSize);
    return i;
  });
  return spans;
}

/** Walks frames and skippable frames; `frame(i)` handles the frame whose header starts after its magic at `i`. */
function walkFrames(src: Uint8Array, frame: (i: number) => number): void {
  if (src.length < 4) throw new DecodeError('zstd: input too short for a frame', 0);
  let i = 0;
  while (i < src.length) {
    if (i + 4 > src.length) throw new DecodeError('zstd: truncated frame magic', i);
    const magic = le32(src, i);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      if (i + 8 > src.length) throw new DecodeError('zstd: truncated skippable frame', i);
      const size = le32(src, i + 4);
      if (size > src.length - i - 8) throw new DecodeError('zstd: skippable frame overruns', i);
      i += 8 + size;
      continue;
    }
    if (magic !== MAGIC) throw new DecodeError('zstd: bad frame magic', i);
    i = frame(i + 4);
  }
}

/** A frame header at `i` (after the magic): where the blocks start, the checksum flag and the content size (-1 if absent). */
function readFrameHeader(src: Uint8Array, i: number): { end: number; checksum: boolean; contentSize: number } {
  const end = src.length;
  if (i >= end) throw new DecodeError('zstd: truncated frame header', i);
  const fhd = src[i++]!;
  if (fhd & 0x08) throw new DecodeError('zstd: reserved frame header bit set', i - 1);
  const fcsFlag = fhd >>> 6;
  const single = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  const dictSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  if (i + (single ? 0 : 1) + dictSize + fcsSize > end) throw new DecodeError('zstd: truncated frame header', i);
  if (!single) i++; // window descriptor: the whole frame is decoded into one buffer, so it is only advisory
  let dict = 0;
  for (let k = 0; k < dictSize; k++) dict += src[i + k]! * 2 ** (8 * k);
  if (dict !== 0) throw new DecodeError('zstd: dictionaries are not supported', i);
  i += dictSize;
  let contentSize = -1;
  if (fcsSize > 0) {
    contentSize = 0;
    for (let k = 0; k < fcsSize; k++) contentSize += src[i + k]! * 2 ** (8 * k);
    if (fcsSize === 2) contentSize += 256;
    i += fcsSize;
  }
  return { end: i, checksum, contentSize };
}

function decodeFrame(src: Uint8Array, start: number, sink: ByteSink): number {
  const end = src.length;
  const { end: blocksAt, checksum, contentSize } = readFrameHeader(src, start);
  let i = blocksAt;
  if (contentSize >= 0) {
    if (contentSize > sink.max - sink.pos) throw new DecodeError(`zstd: content size ${contentSize} exceeds the ${sink.max}-byte limit`, i);
    // Pre-size from the header only as far as the input could plausibly expand; beyond that, grow as produced.
    sink.ensure(Math.min(contentSize, (end - i) * 64));
  }
  const state = new FrameState();
  state.frameStart = sink.pos;
  for (;;) {
    if (i + 3 > end) throw new DecodeError('zstd: truncated block header', i);
    const header = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16);
    i += 3;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (size > BLOCK_MAX) throw new DecodeError(`zstd: block of ${size} bytes exceeds 128 KiB`, i);
    if (type === 0) {
      if (size > end - i) throw new DecodeError('zstd: raw block overruns', i);
      sink.append(src, i, i + size);
      i += size;
    } else if (type === 1) {
      if (i >= end) throw new DecodeError('zstd: truncated RLE block', i);
      sink.ensure(size);
      sink.buf.fill(src[i]!, sink.pos, sink.pos + size);
      sink.pos += size;
      i += 1;
    } else if (type === 2) {
      if (size > end - i) throw new DecodeError('zstd: compressed block overruns', i);
      decodeCompressedBlock(src, i, i + size, state, sink);
      i += size;
    } else {
      throw new DecodeError('zstd: reserved block type', i - 3);
    }
    if (header & 1) break;
  }
  if (checksum) {
    if (i + 4 > end) throw new DecodeError('zstd: truncated content checksum', i);
    if (le32(src, i) !== xxhash64(sink.buf, state.frameStart, sink.pos)[1]) throw new DecodeError('zstd: content checksum mismatch', i);
    i += 4;
  }
  if (contentSize >= 0 && sink.pos - state.frameStart !== contentSize) {
    throw new DecodeError(`zstd: frame produced ${sink.pos - state.frameStart} bytes, header said ${contentSize}`, i);
  }
  return i;
}

function decodeCompressedBlock(src: Uint8Array, start: number, end: number, state: FrameState, sink: ByteSink): void {
  let p = decodeLiterals(src, start, end, state);
  if (p >= end) throw new DecodeError('zstd: missing sequences section', p);
  const b0 = src[p]!;
  let nbSeq: number;
  if (b0 < 128) {
    nbSeq = b0;
    p += 1;
  } else if (b0 < 255) {
    if (p + 2 > end) throw new DecodeError('zstd: truncated sequence count', p);
    nbSeq = ((b0 - 128) << 8) + src[p + 1]!;
    p += 2;
  } else {
    if (p + 3 > end) throw new DecodeError('zstd: truncated sequence count', p);
    nbSeq = src[p + 1]! + (src[p + 2]! << 8) + 0x7f00;
    p += 3;
  }
  const blockLimit = Math.min(sink.pos + BLOCK_MAX, sink.max);
  sink.ensure(blockLimit - sink.pos);
  if (nbSeq === 0) {
    copyLiterals(state, 0, state.litLen, sink, blockLimit);
    return;
  }
  if (p >= end) throw new DecodeError('zstd: missing compression modes', p);
  const modes = src[p++]!;
  if (modes & 3) throw new DecodeError('zstd: reserved bits in compression modes', p - 1);
  const [llDef, ofDef, mlDef] = predefinedTables();
  p = selectTable(src, p, end, modes >>> 6, llDef, 9, 35, state, 'll');
  p = selectTable(src, p, end, (modes >>> 4) & 3, ofDef, 8, 31, state, 'of');
  p = selectTable(src, p, end, (modes >>> 2) & 3, mlDef, 9, 52, state, 'ml');
  executeSequences(src, p, end, nbSeq, state, sink, blockLimit);
}

function selectTable(
  src: Uint8Array, p: number, end: number, mode: number, predefinedTable: FseTable, maxLog: number, maxSymbol: number,
  state: FrameState, which: 'll' | 'of' | 'ml',
): number {
  if (mode === 0) state[which] = predefinedTable;
  else if (mode === 1) {
    if (p >= end) throw new DecodeError('zstd: truncated RLE symbol', p);
    const s = src[p++]!;
    if (s > maxSymbol) throw new DecodeError(`zstd: RLE symbol ${s} out of range`, p - 1);
    state[which] = rleFseTable(s);
  } else if (mode === 2) {
    const [table, used] = readFseTable(src, p, end, maxLog, maxSymbol);
    state[which] = table;
    p += used;
  } else if (state[which] === null) {
    throw new DecodeError('zstd: repeated sequence table with no previous table', p);
  }
  return p;
}

/** Reads the literals section into state.lits / state.litLen; returns where the sequences section starts. */
function decodeLiterals(src: Uint8Array, i: number, end: number, state: FrameState): number {
  if (i >= end) throw new DecodeError('zstd: missing literals section', i);
  const b0 = src[i]!;
  const type = b0 & 3;
  const sf = (b0 >>> 2) & 3;
  if (type < 2) {
    const hdr = sf === 1 ? 2 : sf === 3 ? 3 : 1;
    if (i + hdr > end) throw new DecodeError('zstd: truncated literals header', i);
    const regen = hdr === 1 ? b0 >>> 3 : hdr === 2 ? (b0 >>> 4) + (src[i + 1]! << 4) : (b0 >>> 4) + (src[i + 1]! << 4) + (src[i + 2]! << 12);
    if (regen > BLOCK_MAX) throw new DecodeError('zstd: literals exceed 128 KiB', i);
    i += hdr;
    state.litLen = regen;
    if (type === 0) {
      if (regen > end - i) throw new DecodeError('zstd: raw literals overrun', i);
      state.lits = src.subarray(i, i + regen);
      return i + regen;
    }
    if (i >= end) throw new DecodeError('zstd: truncated RLE literal', i);
    state.litBuf.fill(src[i]!, 0, regen);
    state.lits = state.litBuf;
    return i + 1;
  }
  const hdr = sf < 2 ? 3 : sf + 2;
  if (i + hdr > end) throw new DecodeError('zstd: truncated literals header', i);
  let v = 0;
  for (let k = 0; k < hdr; k++) v += src[i + k]! * 2 ** (8 * k);
  const sizeBits = hdr === 3 ? 10 : hdr === 4 ? 14 : 18;
  const regen = Math.floor(v / 16) % 2 ** sizeBits;
  const comp = Math.floor(v / 2 ** (4 + sizeBits)) % 2 ** sizeBits;
  if (regen > BLOCK_MAX) throw new DecodeError('zstd: literals exceed 128 KiB', i);
  i += hdr;
  if (comp > end - i) throw new DecodeError('zstd: compressed literals overrun', i);
  const stop = i + comp;
  let p = i;
  if (type === 2) {
    const [table, used] = readHuffmanTable(src, p, stop);
    state.huffman = table;
    p += used;
  } else if (state.huffman === null) {
    throw new DecodeError('zstd: treeless literals with no previous Huffman table', i);
  }
  const table = state.huffman!;
  const out = state.litBuf;
  if (sf === 0) decodeHuffmanStream(src, p, stop, table, out, 0, regen, state.bits);
  else {
    if (p + 6 > stop) throw new DecodeError('zstd: truncated jump table', p);
    const s1 = src[p]! | (src[p + 1]! << 8);
    const s2 = src[p + 2]! | (src[p + 3]! << 8);
    const s3 = src[p + 4]! | (src[p + 5]! << 8);
    p += 6;
    const seg = (regen + 3) >>> 2;
    if (p + s1 + s2 + s3 > stop || regen < 3 * seg) throw new DecodeError('zstd: invalid jump table', p - 6);
    decodeHuffmanStream(src, p, p + s1, table, out, 0, seg, state.bits);
    decodeHuffmanStream(src, p + s1, p + s1 + s2, table, out, seg, seg, state.bits);
    decodeHuffmanStream(src, p + s1 + s2, p + s1 + s2 + s3, table, out, 2 * seg, seg, state.bits);
    decodeHuffmanStream(src, p + s1 + s2 + s3, stop, table, out, 3 * seg, regen - 3 * seg, state.bits);
  }
  state.lits = out;
  state.litLen = regen;
  return stop;
}

function decodeHuffmanStream(src: Uint8Array, start: number, end: number, table: HuffmanTable, out: Uint8Array, o: number, n: number, bits: BackwardBits): void {
  bits.init(src, start, end);
  const { maxBits, symbol, nbBits } = table;
  for (let k = 0; k < n; k++) {
    const v = bits.peek(maxBits);
    out[o + k] = symbol[v]!;
    bits.consume(nbBits[v]!);
  }
  if (bits.remaining() !== 0) throw new DecodeError('zstd: Huffman stream not consumed exactly', start);
}

function copyLiterals(state: FrameState, from: number, n: number, sink: ByteSink, limit: number): void {
  if (n > limit - sink.pos) throw new DecodeError('zstd: block output exceeds its limit');
  sink.buf.set(state.lits.subarray(from, from + n), sink.pos);
  sink.pos += n;
}

function executeSequences(src: Uint8Array, p: number, end: number, nbSeq: number, state: FrameState, sink: ByteSink, limit: number): void {
  const ll = state.ll!;
  const of = state.of!;
  const ml = state.ml!;
  const bits = state.bits.init(src, p, end);
  const reps = state.reps;
  let llState = bits.read(ll.log);
  let ofState = bits.read(of.log);
  let mlState = bits.read(ml.log);
  let litPos = 0;
  const out = sink.buf;
  let o = sink.pos;
  for (let n = 0; n < nbSeq; n++) {
    const ofCode = of.symbol[ofState]!;
    const mlCode = ml.symbol[mlState]!;
    const llCode = ll.symbol[llState]!;
    const offValue = ((1 << ofCode) >>> 0) + bits.read(ofCode);
    const mlLen = ML_BASE[mlCode]! + bits.read(ML_BITS[mlCode]!);
    const llLen = LL_BASE[llCode]! + bits.read(LL_BITS[llCode]!);
    let offset: number;
    if (offValue > 3) {
      offset = offValue - 3;
      reps[2] = reps[1]!;
      reps[1] = reps[0]!;
      reps[0] = offset;
    } else {
      const idx = offValue - 1 + (llLen === 0 ? 1 : 0);
      if (idx === 0) offset = reps[0]!;
      else {
        offset = idx === 3 ? reps[0]! - 1 : reps[idx]!;
        if (idx !== 1) reps[2] = reps[1]!;
        reps[1] = reps[0]!;
        reps[0] = offset;
      }
    }
    if (n < nbSeq - 1) {
      llState = ll.baseline[llState]! + bits.read(ll.nbBits[llState]!);
      mlState = ml.baseline[mlState]! + bits.read(ml.nbBits[mlState]!);
      ofState = of.baseline[ofState]! + bits.read(of.nbBits[ofState]!);
    }
    if (bits.overflowed()) throw new DecodeError('zstd: sequence bit stream overrun', p);
    if (llLen > state.litLen - litPos) throw new DecodeError('zstd: sequence uses more literals than decoded', p);
    if (llLen + mlLen > limit - o) throw new DecodeError('zstd: block output exceeds its limit', p);
    const lits = state.lits;
    if (llLen < 32) for (let k = 0; k < llLen; k++) out[o + k] = lits[litPos + k]!;
    else out.set(lits.subarray(litPos, litPos + llLen), o);
    litPos += llLen;
    o += llLen;
    if (offset === 0 || offset > o - state.frameStart) throw new DecodeError(`zstd: match offset ${offset} out of range`, p);
    if (offset >= mlLen && mlLen >= 32) out.copyWithin(o, o - offset, o - offset + mlLen);
    else for (let k = 0; k < mlLen; k++) out[o + k] = out[o + k - offset]!;
    o += mlLen;
  }
  if (bits.remaining() !== 0) throw new DecodeError('zstd: sequence bit stream not consumed exactly', p);
  sink.pos = o;
  copyLiterals(state, litPos, state.litLen - litPos, sink, limit);
}
