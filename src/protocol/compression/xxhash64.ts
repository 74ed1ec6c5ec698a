/**
 * xxHash64, for the optional content checksum of zstd frames (its low 32 bits). Written from the xxHash
 * specification with 64-bit values held as two uint32 halves (no bigint: bigint arithmetic would cost more than
 * the zstd decoding it checks). Results come back through the module-level `rh`/`rl` registers internally.
 */

// Primes as [high, low] halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

let rh = 0;
let rl = 0;

/**
 * (a * b) mod 2^64 into rh:rl. The high half of al*bl comes from 16-bit partial products (each exact in a
 * double); the cross terms only matter mod 2^32, which Math.imul gives directly.
 */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  rl = ((mid << 16) | (p00 & 0xffff)) >>> 0;
  rh = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

function rotl(h: number, l: number, r: number): void {
  if (r >= 32) {
    const t = h;
    h = l;
    l = t;
    r -= 32;
  }
  if (r === 0) {
    rh = h;
    rl = l;
    return;
  }
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** round(acc, input) = rotl(acc + input * P2, 31) * P1, into rh:rl. */
function round(acch: number, accl: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** acc = (acc ^ round(0, v)) * P1 + P4, into rh:rl. */
function merge(acch: number, accl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((acch ^ rh) >>> 0, (accl ^ rl) >>> 0, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** xxHash64 of `data[start, end)` with seed 0, as [high, low] uint32 halves. */
export function xxhash64(data: Uint8Array, start = 0, end = data.length): [number, number] {
  let i = start;
  let hh: number;
  let hl: number;
  if (end - start >= 32) {
    add(P1H, P1L, P2H, P2L);
    let v1h = rh, v1l = rl;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    add(0, 0, (~P1H) >>> 0, (~P1L) >>> 0); // -P1 = ~P1 + 1
    add(rh, rl, 0, 1);
    let v4h = rh, v4l = rl;
    for (const stop = end - 32; i <= stop; i += 32) {
      round(v1h, v1l, le32(data, i + 4), le32(data, i));
      v1h = rh; v1l = rl;
      round(v2h, v2l, le32(data, i + 12), le32(data, i + 8));
      v2h = rh; v2l = rl;
      round(v3h, v3l, le32(data, i + 20), le32(data, i + 16));
      v3h = rh; v3l = rl;
      round(v4h, v4l, le32(data, i + 28), le32(data, i + 24));
      v4h = rh; v4l = rl;
    }
    rotl(v1h, v1l, 1);
    hh = rh; hl = rl;
    rotl(v2h, v2l, 7);
    add(hh, hl, rh, rl);
    hh = rh; hl = rl;
    rotl(v3h, v3l, 12);
    add(hh, hl, rh, rl);
    hh = rh; hl = rl;
    rotl(v4h, v4l, 18);
    add(hh, hl, rh, rl);
    merge(rh, rl, v1h, v1l);
    merge(rh, rl, v2h, v2l);
    merge(rh, rl, v3h, v3l);
    merge(rh, rl, v4h, v4l);
    hh = rh; hl = rl;
  } else {
    hh = P5H; hl = P5L;
  }
  add(hh, hl, 0, end - start);
  hh = rh; hl = rl;
  for (; i + 8 <= end; i += 8) {
    round(0, 0, le32(data, i + 4), le32(data, i));
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L);
    hh = rh; hl = rl;
  }
  if (i + 4 <= end) {
    mul(0, le32(data, i), P1H, P1L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L);
    hh = rh; hl = rl;
    i += 4;
  }
  for (; i < end; i++) {
    mul(0, data[i]!, P5H, P5L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
    mul(rh, rl, P1H, P1L);
    hh = rh; hl = rl;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = rh; hl = rl;
  hl = (hl ^ hh) >>> 0;
  return [hh, hl];
}
