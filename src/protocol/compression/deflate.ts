/**
 * DEFLATE encoding (RFC 1951) for runtimes without node:zlib: greedy LZ77 matches (a 4-byte hash, one candidate,
 * a 32 KiB window) written with the fixed Huffman codes (BTYPE 01), or as stored blocks when that is shorter
 * (incompressible data grows by 5 bytes per 64 KiB only). Every inflater reads it; ratios are below zlib's
 * (no dynamic codes, no lazy matching), which is the honest price of a runtime without zlib. No levels.
 */
import { DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA, reverseBits } from './inflate.js';

const WINDOW = 32 * 1024;
const MIN_MATCH = 4;
const MAX_MATCH = 258;
const HASH_BITS = 15;
const STORED_MAX = 65_535;

let tables: { litCode: Int32Array; litLen: Uint8Array; lenSym: Uint16Array; distCode: Int32Array } | undefined;

/** The fixed codes (bit-reversed, ready for LSB-first output) and the length-to-symbol map, built on first use. */
function fixedCodes(): NonNullable<typeof tables> {
  if (tables !== undefined) return tables;
  const litCode = new Int32Array(288);
  const litLen = new Uint8Array(288);
  for (let s = 0; s < 288; s++) {
    const [len, code] = s < 144 ? [8, 0x30 + s] : s < 256 ? [9, 0x190 + s - 144] : s < 280 ? [7, s - 256] : [8, 0xc0 + s - 280];
    litCode[s] = reverseBits(code, len);
    litLen[s] = len;
  }
  const lenSym = new Uint16Array(MAX_MATCH + 1);
  for (let i = 0; i < 29; i++) {
    const top = i === 28 ? MAX_MATCH : LENGTH_BASE[i + 1]! - 1;
    for (let l = LENGTH_BASE[i]!; l <= top; l++) lenSym[l] = i;
  }
  lenSym[MAX_MATCH] = 28;
  const distCode = new Int32Array(30);
  for (let d = 0; d < 30; d++) distCode[d] = reverseBits(d, 5);
  return (tables = { litCode, litLen, lenSym, distCode });
}

/** The distance symbol of `d` (1..32768). */
function distSym(d: number): number {
  let lo = 0, hi = 29;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (DIST_BASE[mid]! <= d) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

class BitWriter {
  out: Uint8Array;
  pos = 0;
  private buf = 0;
  private cnt = 0;
  constructor(capacity: number) {
    this.out = new Uint8Array(capacity);
  }

  /** Appends the low `n` (<= 16) bits of `v`, LSB first. */
  put(v: number, n: number): void {
    this.buf |= v << this.cnt;
    this.cnt += n;
    while (this.cnt >= 8) {
      if (this.pos === this.out.length) this.grow();
      this.out[this.pos++] = this.buf & 0xff;
      this.buf >>>= 8;
      this.cnt -= 8;
    }
  }

  flush(): Uint8Array {
    if (this.cnt > 0) this.put(0, 8 - this.cnt);
    return this.out.subarray(0, this.pos);
  }

  private grow(): void {
    const next = new Uint8Array(this.out.length * 2);
    next.set(this.out);
    this.out = next;
  }
}

/** `data` as one raw DEFLATE stream (fixed-Huffman block, or stored blocks when those are shorter). */
export function deflateRaw(data: Uint8Array): Uint8Array {
  const fixedOut = deflateFixed(data);
  const storedSize = data.length + 5 * Math.max(1, Math.ceil(data.length / STORED_MAX));
  return fixedOut.length <= storedSize ? fixedOut : deflateStored(data);
}

function deflateStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_MAX));
  const out = new Uint8Array(data.length + 5 * blocks);
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    const start = b * STORED_MAX;
    const len = Math.min(STORED_MAX, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00, then byte-aligned
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  return out;
}

function deflateFixed(data: Uint8Array): Uint8Array {
  const { litCode, litLen, lenSym, distCode } = fixedCodes();
  const w = new BitWriter(data.length + (data.length >>> 3) + 16);
  w.put(1, 1); // BFINAL
  w.put(1, 2); // BTYPE 01: fixed codes
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const n = data.length;
  const literal = (b: number): void => w.put(litCode[b]!, litLen[b]!);
  let i = 0;
  while (i < n) {
    if (i + MIN_MATCH > n) { literal(data[i++]!); continue; }
    const h = hash(data, i);
    const candidate = head[h]!;
    head[h] = i;
    let len = 0;
    if (candidate >= 0 && i - candidate <= WINDOW) {
      const max = Math.min(MAX_MATCH, n - i);
      while (len < max && data[candidate + len] === data[i + len]) len++;
    }
    if (len < MIN_MATCH) { literal(data[i++]!); continue; }
    const li = lenSym[len]!;
    w.put(litCode[257 + li]!, litLen[257 + li]!);
    if (LENGTH_EXTRA[li]! > 0) w.put(len - LENGTH_BASE[li]!, LENGTH_EXTRA[li]!);
    const d = i - candidate;
    const ds = distSym(d);
    w.put(distCode[ds]!, 5);
    if (DIST_EXTRA[ds]! > 0) w.put(d - DIST_BASE[ds]!, DIST_EXTRA[ds]!);
    // index a few positions inside the match so later data can refer to it
    const end = Math.min(i + len, n - MIN_MATCH);
    for (let k = i + 1; k < end; k += k < i + 16 ? 1 : 8) head[hash(data, k)] = k;
    i += len;
  }
  w.put(litCode[256]!, litLen[256]!); // end of block
  return w.flush();
}

function hash(data: Uint8Array, i: number): number {
  const v = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
  return Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS);
}
