/**
 * The gzip container (RFC 1952) around our own DEFLATE coder, for runtimes without node:zlib (gzip.ts picks).
 * Decoding reads every member of a multi-member stream (as zlib's gunzip does), checks each member's CRC-32 and
 * length, and bounds the total output by the cap; anything malformed is a {@link DecodeError}.
 */
import { DecodeError } from '../../errors.js';
import { ByteSink } from './byte-sink.js';
import { deflateRaw } from './deflate.js';
import { inflateRaw } from './inflate.js';

const FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, RESERVED = 0xe0;

let crcTable: Int32Array | undefined;

/** CRC-32 (IEEE 802.3, the one gzip uses) of `data[start, end)`. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  const table = (crcTable ??= makeCrcTable());
  let c = -1;
  for (let i = start; i < end; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function makeCrcTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

function u32(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

/** `data` as one gzip member: header (no name, OS "unknown"), fixed-Huffman or stored DEFLATE, CRC-32, size. */
export function gzipPure(data: Uint8Array): Buffer {
  const body = deflateRaw(data);
  const out = Buffer.allocUnsafe(10 + body.length + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], 0);
  out.set(body, 10);
  out.writeUInt32LE(crc32(data), 10 + body.length);
  out.writeUInt32LE(data.length >>> 0, 14 + body.length);
  return out;
}

/** Skips a gzip member's header at `at`; returns where its DEFLATE data starts. */
function skipHeader(data: Uint8Array, at: number): number {
  if (data.length - at < 10) throw new DecodeError('gzip: unexpected end of input in the header');
  if (data[at] !== 0x1f || data[at + 1] !== 0x8b) throw new DecodeError('gzip: incorrect header check');
  if (data[at + 2] !== 8) throw new DecodeError(`gzip: unknown compression method ${data[at + 2]}`);
  const flags = data[at + 3]!;
  if (flags & RESERVED) throw new DecodeError('gzip: unknown header flags set');
  let p = at + 10;
  if (flags & FEXTRA) {
    if (p + 2 > data.length) throw new DecodeError('gzip: unexpected end of input in the header');
    p += 2 + (data[p]! | (data[p + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    while (p < data.length && data[p] !== 0) p++;
    p++;
  }
  if (flags & FHCRC) {
    if (p + 2 > data.length) throw new DecodeError('gzip: unexpected end of input in the header');
    if ((data[p]! | (data[p + 1]! << 8)) !== (crc32(data, at, p) & 0xffff)) throw new DecodeError('gzip: header crc mismatch');
    p += 2;
  }
  if (p >= data.length) throw new DecodeError('gzip: unexpected end of input in the header');
  return p;
}

/** Every member of a gzip stream, inflated; at most `maxBytes` bytes out. */
export function gunzipPure(data: Uint8Array, maxBytes: number): Buffer {
  const sink = new ByteSink(Math.min(maxBytes, Math.max(64, data.length * 4)), maxBytes);
  let at = 0;
  do {
    const start = sink.pos;
    const end = inflateRaw(data, skipHeader(data, at), sink);
    if (end + 8 > data.length) throw new DecodeError('gzip: unexpected end of input in the trailer');
    if (u32(data, end) !== crc32(sink.buf, start, sink.pos)) throw new DecodeError('gzip: incorrect data check');
    if (u32(data, end + 4) !== ((sink.pos - start) >>> 0)) throw new DecodeError('gzip: incorrect length check');
    at = end + 8;
    // Another member follows when another header does (zlib's rule); other trailing bytes are ignored as zlib does.
  } while (at + 1 < data.length && data[at] === 0x1f && data[at + 1] === 0x8b);
  return sink.trimmedResult();
}
