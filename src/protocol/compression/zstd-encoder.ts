/**
 * A small pure-TypeScript zstd COMPRESSOR for runtimes whose node:zlib lacks zstd (before Node 22.15 / 23.8):
 * greedy LZ matching (4-byte hash), raw literals, and sequences coded with the format's predefined FSE tables,
 * so no table descriptions or Huffman trees are written. Ratios land near LZ4's, well short of real zstd
 * levels, but every zstd reader (zstd-jni in the broker and the Java client included) reads the frames.
 * A block that would not shrink is stored raw. Written from RFC 8878.
 */
import { plain } from './byte-sink.js';
import { LL_BASE, LL_BITS, LL_DEFAULT, ML_BASE, ML_BITS, ML_DEFAULT, OF_DEFAULT } from './zstd-tables.js';

const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;
const HASH_BITS = 15;
const MIN_MATCH = 4;

/** FSE encoding table (FSE_buildCTable in the reference): next states, and per-symbol transforms. */
interface FseEncoder {
  log: number;
  stateTable: Uint16Array;
  deltaNbBits: Int32Array;
  deltaFindState: Int32Array;
}

function buildEncoder(norm: readonly number[], log: number): FseEncoder {
  const size = 1 << log;
  const symbols = norm.length;
  const tableSymbol = new Uint8Array(size);
  const cumul = new Int32Array(symbols + 1);
  let high = size - 1;
  for (let s = 0; s < symbols; s++) {
    if (norm[s] === -1) {
      cumul[s + 1] = cumul[s]! + 1;
      tableSymbol[high--] = s;
    } else cumul[s + 1] = cumul[s]! + norm[s]!;
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  let pos = 0;
  for (let s = 0; s < symbols; s++) {
    for (let i = 0; i < norm[s]!; i++) {
      tableSymbol[pos] = s;
      do pos = (pos + step) & (size - 1);
      while (pos > high);
    }
  }
  const stateTable = new Uint16Array(size);
  const next = cumul.slice();
  for (let u = 0; u < size; u++) stateTable[next[tableSymbol[u]!]!++] = size + u;
  const deltaNbBits = new Int32Array(symbols);
  const deltaFindState = new Int32Array(symbols);
  let total = 0;
  for (let s = 0; s < symbols; s++) {
    const n = norm[s]!;
    if (n === -1 || n === 1) {
      deltaNbBits[s] = (log << 16) - size;
      deltaFindState[s] = total - 1;
      total++;
    } else if (n > 1) {
      const maxBitsOut = log - (31 - Math.clz32(n - 1));
      deltaNbBits[s] = (maxBitsOut << 16) - (n << maxBitsOut);
      deltaFindState[s] = total - n;
      total += n;
    }
  }
  return { log, stateTable, deltaNbBits, deltaFindState };
}

let encoders: [FseEncoder, FseEncoder, FseEncoder] | undefined;
function predefinedEncoders(): [FseEncoder, FseEncoder, FseEncoder] {
  encoders ??= [buildEncoder(LL_DEFAULT, 6), buildEncoder(OF_DEFAULT, 5), buildEncoder(ML_DEFAULT, 6)];
  return encoders;
}

/** Forward bit stream, LSB first; the decoder reads it backwards from the end mark. */
class BitWriter {
  acc = 0;
  n = 0;
  constructor(public out: Uint8Array, public pos: number) {}
  /** Appends the low `bits` (0..24) bits of `value`. */
  add(value: number, bits: number): void {
    this.acc |= (value & ((1 << bits) - 1)) << this.n;
    this.n += bits;
    while (this.n >= 8) {
      this.out[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.n -= 8;
    }
  }
  /** End mark (a 1 bit) and padding to the byte; returns the end position. */
  close(): number {
    this.add(1, 1);
    if (this.n > 0) this.out[this.pos++] = this.acc & 0xff;
    return this.pos;
  }
}

function llCode(ll: number): number {
  if (ll < 16) return ll;
  if (ll >= 64) return 31 - Math.clz32(ll) + 19;
  return LL_SMALL[ll]!;
}

function mlCode(ml: number): number {
  const base = ml - 3;
  if (base < 32) return base;
  if (base >= 128) return 31 - Math.clz32(base) + 36;
  return ML_SMALL[base]!;
}

/** Codes of lengths below 64 (literals) and 128 (match lengths minus 3), from the baselines. */
const LL_SMALL = new Uint8Array(64).map((_, ll) => [16, 18, 20, 22, 24, 28, 32, 40, 48].filter((b) => b <= ll).length + 15);
const ML_SMALL = new Uint8Array(128).map((_, b) => ML_BASE.filter((base) => base - 3 <= b).length - 1);

interface Sequences {
  count: number;
  ll: Uint32Array;
  ml: Uint32Array;
  off: Uint32Array;
  lits: Uint8Array;
  litLen: number;
}

/** Greedy matching over `src[start, end)`; matches may reach back to `frameStart`. */
function findSequences(src: Uint8Array, frameStart: number, start: number, end: number, table: Int32Array, seq: Sequences): void {
  let anchor = start;
  let i = start;
  seq.count = 0;
  seq.litLen = 0;
  const limit = end - MIN_MATCH;
  while (i < limit) {
    const cur = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
    const h = Math.imul(cur, 0x9e3779b1) >>> (32 - HASH_BITS);
    const cand = table[h]!;
    table[h] = i;
    if (cand < frameStart || cand >= i || (src[cand]! | (src[cand + 1]! << 8) | (src[cand + 2]! << 16) | (src[cand + 3]! << 24)) !== cur) {
      i++;
      continue;
    }
    let len = MIN_MATCH;
    while (i + len < end && src[cand + len] === src[i + len]) len++;
    const n = seq.count++;
    seq.ll[n] = i - anchor;
    seq.ml[n] = len;
    seq.off[n] = i - cand;
    const lits = seq.lits;
    const at = seq.litLen;
    for (let k = anchor; k < i; k++) lits[at + k - anchor] = src[k]!;
    seq.litLen += i - anchor;
    i += len;
    anchor = i;
  }
  seq.lits.set(src.subarray(anchor, end), seq.litLen);
  seq.litLen += end - anchor;
}

/** Writes a compressed block body at out[o]; returns its end. */
function writeBlockBody(seq: Sequences, out: Uint8Array, o: number): number {
  const n = seq.litLen;
  if (n < 32) out[o++] = n << 3;
  else if (n < 4096) {
    out[o++] = (1 << 2) | ((n & 15) << 4);
    out[o++] = n >>> 4;
  } else {
    out[o++] = (3 << 2) | ((n & 15) << 4);
    out[o++] = (n >>> 4) & 0xff;
    out[o++] = n >>> 12;
  }
  out.set(seq.lits.subarray(0, n), o);
  o += n;
  const count = seq.count;
  if (count < 128) out[o++] = count;
  else if (count < 0x7f00) {
    out[o++] = (count >>> 8) + 128;
    out[o++] = count & 0xff;
  } else {
    out[o++] = 255;
    out[o++] = (count - 0x7f00) & 0xff;
    out[o++] = (count - 0x7f00) >>> 8;
  }
  if (count === 0) return o;
  out[o++] = 0; // predefined tables for literal lengths, offsets and match lengths
  return writeSequenceStream(seq, new BitWriter(out, o));
}

// The codes and extra bits of the sequence being coded (module registers: no tuple per sequence).
let lc = 0, lx = 0, mc = 0, mx = 0, oc = 0, ox = 0;

function setCodes(seq: Sequences, k: number): void {
  const ll = seq.ll[k]!;
  const ml = seq.ml[k]!;
  const offValue = seq.off[k]! + 3; // above 3: a plain offset, never a repeat code
  oc = 31 - Math.clz32(offValue);
  ox = offValue - ((1 << oc) >>> 0);
  lc = llCode(ll);
  lx = ll - LL_BASE[lc]!;
  mc = mlCode(ml);
  mx = ml - ML_BASE[mc]!;
}

/** FSE-codes the sequences last to first, so that the decoder reads them first to last. */
function writeSequenceStream(seq: Sequences, w: BitWriter): number {
  const [llE, ofE, mlE] = predefinedEncoders();
  const last = seq.count - 1;
  setCodes(seq, last);
  let llState = initState(llE, lc);
  let mlState = initState(mlE, mc);
  let ofState = initState(ofE, oc);
  w.add(lx, LL_BITS[lc]!);
  w.add(mx, ML_BITS[mc]!);
  addLong(w, ox, oc);
  for (let k = last - 1; k >= 0; k--) {
    setCodes(seq, k);
    ofState = encode(ofE, ofState, oc, w);
    mlState = encode(mlE, mlState, mc, w);
    llState = encode(llE, llState, lc, w);
    w.add(lx, LL_BITS[lc]!);
    w.add(mx, ML_BITS[mc]!);
    addLong(w, ox, oc);
  }
  w.add(mlState, mlE.log);
  w.add(ofState, ofE.log);
  w.add(llState, llE.log);
  return w.close();
}

function addLong(w: BitWriter, value: number, bits: number): void {
  if (bits <= 24) w.add(value, bits);
  else {
    w.add(value % 65536, 16);
    w.add(Math.floor(value / 65536), bits - 16);
  }
}

function initState(e: FseEncoder, symbol: number): number {
  const nbBitsOut = (e.deltaNbBits[symbol]! + (1 << 15)) >> 16;
  const value = (nbBitsOut << 16) - e.deltaNbBits[symbol]!;
  return e.stateTable[(value >> nbBitsOut) + e.deltaFindState[symbol]!]!;
}

function encode(e: FseEncoder, state: number, symbol: number, w: BitWriter): number {
  const nbBitsOut = (state + e.deltaNbBits[symbol]!) >> 16;
  w.add(state, nbBitsOut);
  return e.stateTable[(state >> nbBitsOut) + e.deltaFindState[symbol]!]!;
}

/** Compresses `data` as one zstd frame (single segment, content size, no checksum). */
export function zstdCompressPure(data: Uint8Array): Buffer {
  const src = plain(data);
  const blocks = Math.max(1, Math.ceil(src.length / BLOCK_MAX));
  const outBuf = Buffer.allocUnsafe(9 + blocks * (3 + BLOCK_MAX + 64));
  const out = plain(outBuf);
  outBuf.writeUInt32LE(MAGIC, 0);
  out[4] = 0xa0; // 4-byte content size, single segment: the window is the whole content
  outBuf.writeUInt32LE(src.length, 5);
  let o = 9;
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  const seq: Sequences = {
    count: 0, litLen: 0, lits: new Uint8Array(BLOCK_MAX),
    ll: new Uint32Array(BLOCK_MAX / MIN_MATCH), ml: new Uint32Array(BLOCK_MAX / MIN_MATCH), off: new Uint32Array(BLOCK_MAX / MIN_MATCH),
  };
  for (let b = 0, start = 0; b < blocks; b++, start += BLOCK_MAX) {
    const end = Math.min(start + BLOCK_MAX, src.length);
    const lastBit = b === blocks - 1 ? 1 : 0;
    findSequences(src, 0, start, end, table, seq);
    const bodyEnd = writeBlockBody(seq, out, o + 3);
    const size = bodyEnd - o - 3;
    if (size < end - start) {
      writeBlockHeader(out, o, lastBit | (2 << 1) | (size << 3));
      o = bodyEnd;
    } else {
      writeBlockHeader(out, o, lastBit | ((end - start) << 3));
      out.set(src.subarray(start, end), o + 3);
      o += 3 + end - start;
    }
  }
  return outBuf.subarray(0, o);
}

function writeBlockHeader(out: Uint8Array, o: number, header: number): void {
  out[o] = header & 0xff;
  out[o + 1] = (header >>> 8) & 0xff;
  out[o + 2] = header >>> 16;
}
