/**
 * DEFLATE decoding (RFC 1951) in TypeScript, for runtimes without node:zlib: stored, fixed-Huffman and
 * dynamic-Huffman blocks. Synchronous, bounded and hostile-input safe: the output goes through a capped
 * {@link ByteSink} (a bomb fails at the cap), every code, length and distance is checked, a distance may not reach
 * before the start of its stream, and reading past the input ends the decode with a {@link DecodeError} at once
 * (zero padding cannot keep a loop alive). Written from the RFC; node:zlib is the reference in the tests.
 */
import { DecodeError } from '../../errors.js';
import { copyMatch, type ByteSink } from './byte-sink.js';

/** Base lengths and extra bits of length symbols 257..285 (RFC 1951 §3.2.5); deflate.ts writes with the same tables. */
export const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
export const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/** Base distances and extra bits of distance symbols 0..29. */
export const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
export const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block lists the code-length code's lengths. */
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS = 15;

/**
 * A canonical Huffman code as one lookup table indexed by the next `bits` input bits (LSB first): each entry is
 * `symbol << 4 | length`, 0 where no code matches (an incomplete code's unused space: hitting it is an error).
 */
interface HuffmanTable {
  readonly table: Int32Array;
  readonly bits: number;
}

/** Builds the table for `lengths` (0 = symbol unused). Over-subscribed lengths are refused. */
function buildTable(lengths: ArrayLike<number>, what: string): HuffmanTable {
  const count = new Int32Array(MAX_BITS + 1);
  let maxLen = 0;
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s]!;
    count[len]!++;
    if (len > maxLen) maxLen = len;
  }
  count[0] = 0;
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - count[len]!;
    if (left < 0) throw new DecodeError(`deflate: over-subscribed ${what} code`);
  }
  const bits = Math.max(1, maxLen);
  const table = new Int32Array(1 << bits);
  const next = new Int32Array(MAX_BITS + 1); // the first canonical code of each length (RFC 1951 §3.2.2)
  for (let len = 1, code = 0; len <= MAX_BITS; len++) {
    code = (code + count[len - 1]!) << 1;
    next[len] = code;
  }
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s]!;
    if (len === 0) continue;
    const c = next[len]!++;
    const rev = reverseBits(c, len); // codes are sent most significant bit first: index by the bits as they arrive
    const entry = (s << 4) | len;
    for (let k = rev; k < table.length; k += 1 << len) table[k] = entry;
  }
  return { table, bits };
}

/** The low `len` bits of `code` in reverse order (Huffman codes go on the wire MSB first, in an LSB-first stream). */
export function reverseBits(code: number, len: number): number {
  let r = 0;
  for (let i = 0; i < len; i++) r |= ((code >>> i) & 1) << (len - 1 - i);
  return r;
}

let fixedTables: { lit: HuffmanTable; dist: HuffmanTable } | undefined;

/** The fixed codes of BTYPE 01 (RFC 1951 §3.2.6), built on first use. */
function fixed(): { lit: HuffmanTable; dist: HuffmanTable } {
  if (fixedTables === undefined) {
    const lit = new Uint8Array(288);
    lit.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixedTables = { lit: buildTable(lit, 'literal/length'), dist: buildTable(new Uint8Array(30).fill(5), 'distance') };
  }
  return fixedTables;
}

/** LSB-first bit reader over `src[pos, end)`; reading more than 4 bytes past `end` is a truncation error. */
class Bits {
  buf = 0;
  cnt = 0;
  constructor(readonly src: Uint8Array, public pos: number, readonly end: number) {}

  /** At least `n` (<= 24) bits in `buf`. */
  need(n: number): void {
    while (this.cnt < n) {
      if (this.pos >= this.end + 4) throw new DecodeError('deflate: unexpected end of input');
      this.buf |= (this.pos < this.end ? this.src[this.pos]! : 0) << this.cnt;
      this.pos++;
      this.cnt += 8;
    }
  }

  take(n: number): number {
    this.need(n);
    const v = this.buf & ((1 << n) - 1);
    this.buf >>>= n;
    this.cnt -= n;
    return v;
  }

  /** Decodes one symbol of `h`. */
  symbol(h: HuffmanTable): number {
    if (this.cnt < h.bits) this.need(h.bits);
    const entry = h.table[this.buf & ((1 << h.bits) - 1)]!;
    const len = entry & 15;
    if (len === 0) throw new DecodeError('deflate: invalid Huffman code');
    this.buf >>>= len;
    this.cnt -= len;
    return entry >>> 4;
  }

  /** Drops the bits up to the next byte boundary and gives back the whole bytes held: `pos` is then exact. */
  align(): void {
    this.pos -= this.cnt >>> 3;
    this.buf = 0;
    this.cnt = 0;
  }
}

/**
 * Inflates the raw DEFLATE stream starting at `src[start]` into `sink` (appending; back-references may not reach
 * before the sink's position at the call). Returns the offset of the first byte after the stream's final block.
 * Throws {@link DecodeError} for malformed or truncated data, or output past the sink's cap.
 */
export function inflateRaw(src: Uint8Array, start: number, sink: ByteSink): number {
  const bits = new Bits(src, start, src.length);
  const streamStart = sink.pos;
  for (let final = 0; final === 0;) {
    final = bits.take(1);
    const type = bits.take(2);
    if (type === 0) stored(bits, sink);
    else if (type === 1) codes(bits, sink, fixed().lit, fixed().dist, streamStart);
    else if (type === 2) {
      const { lit, dist } = dynamicTables(bits);
      codes(bits, sink, lit, dist, streamStart);
    } else throw new DecodeError('deflate: invalid block type 3');
  }
  bits.align();
  if (bits.pos > src.length) throw new DecodeError('deflate: unexpected end of input');
  return bits.pos;
}

function stored(bits: Bits, sink: ByteSink): void {
  bits.align();
  const { src, pos } = bits;
  if (pos + 4 > src.length) throw new DecodeError('deflate: unexpected end of input in a stored block');
  const len = src[pos]! | (src[pos + 1]! << 8);
  const nlen = src[pos + 2]! | (src[pos + 3]! << 8);
  if ((len ^ 0xffff) !== nlen) throw new DecodeError('deflate: stored block length does not match its complement');
  if (pos + 4 + len > src.length) throw new DecodeError('deflate: unexpected end of input in a stored block');
  sink.append(src, pos + 4, pos + 4 + len);
  bits.pos = pos + 4 + len;
}

/** Reads a dynamic block's code definitions (RFC 1951 §3.2.7). */
function dynamicTables(bits: Bits): { lit: HuffmanTable; dist: HuffmanTable } {
  const hlit = bits.take(5) + 257;
  const hdist = bits.take(5) + 1;
  const hclen = bits.take(4) + 4;
  if (hlit > 286 || hdist > 30) throw new DecodeError('deflate: too many length or distance symbols');
  const clen = new Uint8Array(19);
  for (let i = 0; i < hclen; i++) clen[CLEN_ORDER[i]!] = bits.take(3);
  const clenTable = buildTable(clen, 'code length');
  const lengths = new Uint8Array(hlit + hdist);
  for (let i = 0; i < lengths.length;) {
    const sym = bits.symbol(clenTable);
    if (sym < 16) { lengths[i++] = sym; continue; }
    let value = 0;
    let repeat: number;
    if (sym === 16) {
      if (i === 0) throw new DecodeError('deflate: repeat of a code length with none before it');
      value = lengths[i - 1]!;
      repeat = 3 + bits.take(2);
    } else if (sym === 17) repeat = 3 + bits.take(3);
    else repeat = 11 + bits.take(7);
    if (i + repeat > lengths.length) throw new DecodeError('deflate: code lengths repeat past their end');
    lengths.fill(value, i, i + repeat);
    i += repeat;
  }
  if (lengths[256] === 0) throw new DecodeError('deflate: the literal/length code has no end-of-block');
  return { lit: buildTable(lengths.subarray(0, hlit), 'literal/length'), dist: buildTable(lengths.subarray(hlit), 'distance') };
}

/**
 * Decodes the symbols of one Huffman block until its end-of-block symbol. The hot loop of the fallback: the bit
 * buffer lives in locals (refilled a byte at a time up to 24 bits) and is written back to `bits` at the end.
 */
function codes(bits: Bits, sink: ByteSink, lit: HuffmanTable, dist: HuffmanTable, streamStart: number): void {
  const { src, end } = bits;
  const limit = end + 4;
  const litTable = lit.table, litBits = lit.bits, litMask = (1 << litBits) - 1;
  const distTable = dist.table, distBits = dist.bits, distMask = (1 << distBits) - 1;
  let buf = sink.buf;
  let view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let o = sink.pos;
  let bb = bits.buf, bc = bits.cnt, p = bits.pos;
  try {
    for (;;) {
      while (bc < 24) {
        if (p >= limit) { if (bc >= litBits) break; throw new DecodeError('deflate: unexpected end of input'); }
        bb |= (p < end ? src[p]! : 0) << bc;
        p++;
        bc += 8;
      }
      let entry = litTable[bb & litMask]!;
      let len = entry & 15;
      if (len === 0) throw new DecodeError('deflate: invalid Huffman code');
      bb >>>= len;
      bc -= len;
      const sym = entry >>> 4;
      if (sym < 256) {
        if (o >= buf.length) {
          sink.pos = o;
          sink.ensure(1);
          buf = sink.buf;
          view = new DataView(buf.buffer, buf.byteOffset, buf.length);
        }
        buf[o++] = sym;
        continue;
      }
      if (sym === 256) return;
      const li = sym - 257;
      if (li >= 29) throw new DecodeError(`deflate: invalid length symbol ${sym}`);
      // up to 5 extra length bits, a distance code of up to 15 bits and 13 extra bits: refill between them
      const le = LENGTH_EXTRA[li]!;
      if (bc < le + distBits) {
        bits.buf = bb; bits.cnt = bc; bits.pos = p;
        bits.need(Math.min(24, le + distBits));
        bb = bits.buf; bc = bits.cnt; p = bits.pos;
      }
      let length = LENGTH_BASE[li]!;
      if (le > 0) { length += bb & ((1 << le) - 1); bb >>>= le; bc -= le; }
      entry = distTable[bb & distMask]!;
      len = entry & 15;
      if (len === 0) throw new DecodeError('deflate: invalid Huffman code');
      bb >>>= len;
      bc -= len;
      const ds = entry >>> 4;
      if (ds >= 30) throw new DecodeError(`deflate: invalid distance symbol ${ds}`);
      const de = DIST_EXTRA[ds]!;
      let distance = DIST_BASE[ds]!;
      if (de > 0) {
        if (bc < de) {
          bits.buf = bb; bits.cnt = bc; bits.pos = p;
          bits.need(de);
          bb = bits.buf; bc = bits.cnt; p = bits.pos;
        }
        distance += bb & ((1 << de) - 1);
        bb >>>= de;
        bc -= de;
      }
      if (distance > o - streamStart) throw new DecodeError(`deflate: distance ${distance} reaches before the start of the data`);
      if (o + length > buf.length) {
        sink.pos = o;
        sink.ensure(length);
        buf = sink.buf;
        view = new DataView(buf.buffer, buf.byteOffset, buf.length);
      }
      copyMatch(buf, view, o, distance, length);
      o += length;
    }
  } finally {
    sink.pos = o;
    bits.buf = bb;
    bits.cnt = bc;
    bits.pos = p;
  }
}
