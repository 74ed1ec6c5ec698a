/**
 * A growable output buffer with a hard size cap, shared by the pure-TS decompressors. Compressed data from the
 * network may claim any size; the cap (see {@link DEFAULT_MAX_DECOMPRESSED_BYTES}) turns a decompression bomb
 * into a {@link DecodeError} instead of an out-of-memory crash, and growth is driven by bytes actually
 * produced, never by a length read from the input.
 */
import { DecodeError } from '../../errors.js';

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

export class ByteSink {
  buf: Uint8Array;
  pos = 0;
  readonly max: number;

  constructor(initial: number, max: number) {
    this.max = max;
    this.buf = new Uint8Array(Math.max(64, Math.min(initial, max)));
  }

  /** Makes room for `n` more bytes, or throws a DecodeError when that would pass the cap. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max) throw new DecodeError(`decompressed data exceeds the ${this.max}-byte limit`);
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, this.max));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends `src[start, end)`. */
  append(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  /** The bytes written, as a Buffer view (no copy). */
  result(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}
