/**
 * The entropy coders of zstd (RFC 8878 section 4): FSE table descriptions and decoding tables, Huffman tree
 * descriptions and decoding tables, and the backward bit stream both read from. Every count, weight and size
 * is checked before use; a malformed description throws a DecodeError.
 */
import { DecodeError } from '../../errors.js';

/**
 * Reads a zstd backward bit stream: the last byte's highest set bit marks the start; bits are read downwards.
 * A 32-bit container holds the next `count` bits (most significant first) and is refilled a byte at a time.
 */
export class BackwardBits {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  /** The next byte to load is buf[ptr - 1]. */
  private ptr = 0;
  private container = 0;
  /** Valid bits in the container; negative once reads went past the beginning (those bits read as zeros). */
  private count = 0;

  init(buf: Uint8Array, start: number, end: number): this {
    if (end <= start) throw new DecodeError('zstd: empty bit stream', start);
    const last = buf[end - 1]!;
    if (last === 0) throw new DecodeError('zstd: bit stream without end mark', end - 1);
    this.buf = buf;
    this.start = start;
    this.ptr = end - 1;
    this.count = 31 - Math.clz32(last);
    this.container = last;
    this.refill();
    return this;
  }

  private refill(): void {
    while (this.count <= 24 && this.ptr > this.start) {
      this.container = (this.container << 8) | this.buf[--this.ptr]!;
      this.count += 8;
    }
  }

  /** The next `n` (0..24) bits without consuming them; zeros past the beginning. */
  peek(n: number): number {
    if (this.count < n) {
      this.refill();
      if (this.count < n) return this.count <= 0 ? 0 : (this.container << (n - this.count)) & ((1 << n) - 1);
    }
    return (this.container >>> (this.count - n)) & ((1 << n) - 1);
  }

  consume(n: number): void {
    this.count -= n;
  }

  /** Reads `n` (0..31) bits. */
  read(n: number): number {
    if (n > 24) return this.readLong(n);
    const v = this.peek(n);
    this.count -= n;
    return v;
  }

  /** Kept apart from read() so that read() stays small and non-recursive, hence inlined in hot loops. */
  private readLong(n: number): number {
    const hi = this.peek(n - 16);
    this.count -= n - 16;
    const lo = this.peek(16);
    this.count -= 16;
    return hi * 65536 + lo;
  }

  /** Bits not yet read (negative after reading past the beginning). */
  remaining(): number {
    return this.count + (this.ptr - this.start) * 8;
  }

  /** True when reads went past the beginning of the stream. */
  overflowed(): boolean {
    return this.count < 0;
  }
}

/** An FSE decoding table: per state, the symbol, the bits to read and the baseline of the next state. */
export interface FseTable {
  log: number;
  symbol: Uint8Array;
  nbBits: Uint8Array;
  baseline: Uint16Array;
}

/** Builds the decoding table of a normalized distribution (`-1` = "less than one" probability). */
export function buildFseTable(norm: ArrayLike<number>, symbols: number, log: number): FseTable {
  const size = 1 << log;
  const table: FseTable = { log, symbol: new Uint8Array(size), nbBits: new Uint8Array(size), baseline: new Uint16Array(size) };
  const next = new Uint16Array(symbols);
  let high = size - 1;
  for (let s = 0; s < symbols; s++) {
    if (norm[s] === -1) {
      table.symbol[high--] = s;
      next[s] = 1;
    }
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  const mask = size - 1;
  let pos = 0;
  for (let s = 0; s < symbols; s++) {
    const p = norm[s]!;
    if (p <= 0) continue;
    next[s] = p;
    for (let i = 0; i < p; i++) {
      table.symbol[pos] = s;
      do pos = (pos + step) & mask;
      while (pos > high);
    }
  }
  if (pos !== 0) throw new DecodeError('zstd: FSE distribution does not fill its table');
  for (let u = 0; u < size; u++) {
    const s = table.symbol[u]!;
    const state = next[s]++;
    const bits = log - (31 - Math.clz32(state));
    table.nbBits[u] = bits;
    table.baseline[u] = (state << bits) - size;
  }
  return table;
}

/** A table that always yields `symbol` (the RLE mode of a sequence table). */
export function rleFseTable(symbol: number): FseTable {
  return { log: 0, symbol: Uint8Array.of(symbol), nbBits: new Uint8Array(1), baseline: new Uint16Array(1) };
}

/**
 * Reads an FSE table description at `src[start, end)` (forward, little-endian bits); returns the table and
 * the bytes used. `maxLog` and `maxSymbol` are the limits of the field being described.
 */
export function readFseTable(src: Uint8Array, start: number, end: number, maxLog: number, maxSymbol: number): [FseTable, number] {
  let bit = 0; // bits consumed from `start`
  const readBits = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++, bit++) {
      const i = start + (bit >>> 3);
      if (i >= end) throw new DecodeError('zstd: truncated FSE table description', i);
      v |= ((src[i]! >>> (bit & 7)) & 1) << k;
    }
    return v;
  };
  const peekBits = (n: number): number => {
    const save = bit;
    let v = 0;
    for (let k = 0; k < n; k++, bit++) {
      const i = start + (bit >>> 3);
      if (i < end) v |= ((src[i]! >>> (bit & 7)) & 1) << k;
    }
    bit = save;
    return v;
  };
  const log = readBits(4) + 5;
  if (log > maxLog) throw new DecodeError(`zstd: FSE accuracy log ${log} exceeds ${maxLog}`, start);
  const norm = new Int16Array(maxSymbol + 1);
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  let s = 0;
  while (remaining > 1) {
    if (s > maxSymbol) throw new DecodeError('zstd: FSE description has too many symbols', start);
    const max = 2 * threshold - 1 - remaining;
    let count: number;
    const low = peekBits(nbBits - 1);
    if (low < max) {
      count = low;
      readBits(nbBits - 1);
    } else {
      count = readBits(nbBits);
      if (count >= threshold) count -= max;
    }
    count--;
    remaining -= count < 0 ? -count : count;
    norm[s++] = count;
    if (count === 0) {
      for (;;) {
        const repeat = readBits(2);
        if (s + repeat > maxSymbol + 1) throw new DecodeError('zstd: FSE zero run past the last symbol', start);
        s += repeat; // norm is zero-initialised
        if (repeat !== 3) break;
      }
    }
    while (remaining < threshold && nbBits > 1) {
      nbBits--;
      threshold >>>= 1;
    }
  }
  if (remaining !== 1) throw new DecodeError('zstd: FSE probabilities do not sum to the table size', start);
  return [buildFseTable(norm, s, log), (bit + 7) >>> 3];
}

/** A Huffman decoding table indexed by the next `maxBits` bits. */
export interface HuffmanTable {
  maxBits: number;
  symbol: Uint8Array;
  nbBits: Uint8Array;
}

const MAX_HUFFMAN_BITS = 11;
const bitsScratch = new BackwardBits();

/** Reads a Huffman tree description at `src[start, end)`; returns the table and the bytes used. */
export function readHuffmanTable(src: Uint8Array, start: number, end: number): [HuffmanTable, number] {
  if (start >= end) throw new DecodeError('zstd: missing Huffman tree description', start);
  const header = src[start]!;
  const weights = new Uint8Array(256);
  let count: number;
  let used: number;
  if (header >= 128) {
    count = header - 127;
    used = 1 + ((count + 1) >>> 1);
    if (start + used > end) throw new DecodeError('zstd: truncated Huffman weights', start);
    for (let i = 0; i < count; i++) {
      const b = src[start + 1 + (i >>> 1)]!;
      weights[i] = i & 1 ? b & 15 : b >>> 4;
    }
  } else {
    used = 1 + header;
    if (start + used > end || header === 0) throw new DecodeError('zstd: truncated Huffman weights', start);
    count = decodeWeights(src, start + 1, start + used, weights);
  }
  return [buildHuffmanTable(weights, count), used];
}

/** FSE-compressed weights: one table (log <= 6), two interleaved states over one backward stream. */
function decodeWeights(src: Uint8Array, start: number, end: number, weights: Uint8Array): number {
  const [table, used] = readFseTable(src, start, end, 6, 255);
  const bits = bitsScratch.init(src, start + used, end);
  let s1 = bits.read(table.log);
  let s2 = bits.read(table.log);
  let n = 0;
  for (;;) {
    if (n >= 255) throw new DecodeError('zstd: too many Huffman weights', start);
    weights[n++] = table.symbol[s1]!;
    s1 = table.baseline[s1]! + bits.read(table.nbBits[s1]!);
    if (bits.overflowed()) {
      weights[n++] = table.symbol[s2]!;
      break;
    }
    if (n >= 255) throw new DecodeError('zstd: too many Huffman weights', start);
    weights[n++] = table.symbol[s2]!;
    s2 = table.baseline[s2]! + bits.read(table.nbBits[s2]!);
    if (bits.overflowed()) {
      weights[n++] = table.symbol[s1]!;
      break;
    }
  }
  return n;
}

function buildHuffmanTable(weights: Uint8Array, count: number): HuffmanTable {
  let total = 0;
  for (let i = 0; i < count; i++) {
    const w = weights[i]!;
    if (w > MAX_HUFFMAN_BITS) throw new DecodeError(`zstd: Huffman weight ${w} too large`);
    if (w > 0) total += 1 << (w - 1);
  }
  if (total === 0 || count >= 256) throw new DecodeError('zstd: invalid Huffman weights');
  const maxBits = 32 - Math.clz32(total); // highbit(total) + 1
  if (maxBits > MAX_HUFFMAN_BITS) throw new DecodeError('zstd: Huffman table too deep');
  const rest = (1 << maxBits) - total;
  if (rest & (rest - 1)) throw new DecodeError('zstd: Huffman weights do not complete a tree');
  weights[count] = 32 - Math.clz32(rest); // log2(rest) + 1
  const symbols = count + 1;
  const size = 1 << maxBits;
  const table: HuffmanTable = { maxBits, symbol: new Uint8Array(size), nbBits: new Uint8Array(size) };
  // Codes are assigned by increasing weight, then symbol: weight w takes 2^(w-1) consecutive entries.
  let pos = 0;
  for (let w = 1; w <= maxBits; w++) {
    const span = 1 << (w - 1);
    for (let s = 0; s < symbols; s++) {
      if (weights[s] !== w) continue;
      table.symbol.fill(s, pos, pos + span);
      table.nbBits.fill(maxBits + 1 - w, pos, pos + span);
      pos += span;
    }
  }
  if (pos !== size) throw new DecodeError('zstd: Huffman table incomplete');
  return table;
}
