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

export function gzipCompress(data: Uint8Array): Buffer {
  return zlib.gzipSync(data);
}

export function gzipDecompress(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  try {
    return zlib.gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new DecodeError(`gzip: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Off the main thread (libuv pool): worth it for large batches. */
export function gzipCompressAsync(data: Uint8Array): Promise<Buffer> {
  return gzipAsync(data);
}

export async function gzipDecompressAsync(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  try {
    return await gunzipAsync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new DecodeError(`gzip: ${(err as Error).message}`, undefined, { cause: err });
  }
}
