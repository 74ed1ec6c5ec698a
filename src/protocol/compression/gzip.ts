/**
 * gzip through node:zlib (Kafka's Java client writes a plain GZIPOutputStream stream). Decompression runs with
 * `maxOutputLength`, so a gzip bomb fails with a DecodeError at the cap instead of filling memory.
 */
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { DecodeError } from '../../errors.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './byte-sink.js';

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

/** `level` 1-9 as Kafka's compression.gzip.level (KIP-390); zlib's default (6) when absent, as Java's. */
export function gzipCompress(data: Uint8Array, level?: number): Buffer {
  return zlib.gzipSync(data, level === undefined ? undefined : { level });
}

export function gzipDecompress(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  try {
    return zlib.gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new DecodeError(`gzip: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Off the main thread (libuv pool): worth it for large batches. */
export function gzipCompressAsync(data: Uint8Array, level?: number): Promise<Buffer> {
  return gzipAsync(data, level === undefined ? {} : { level });
}

export async function gzipDecompressAsync(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  try {
    return await gunzipAsync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new DecodeError(`gzip: ${(err as Error).message}`, undefined, { cause: err });
  }
}
