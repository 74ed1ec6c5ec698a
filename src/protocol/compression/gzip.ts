/**
 * gzip (Kafka's Java client writes a plain GZIPOutputStream stream). Through node:zlib where the runtime has it
 * (found with `process.getBuiltinModule`, or a dynamic import on older Node 20: never a static import), with
 * `maxOutputLength` so a gzip bomb fails with a DecodeError at the cap instead of filling memory.
 *
 * Without node:zlib (an edge runtime, a browser-like bundle) our own coder runs (gzip-pure.ts): inflate for every
 * valid stream, under the same cap; compression writes valid gzip with fixed-Huffman or stored DEFLATE blocks
 * (any reader accepts it; ratios below zlib's; `level` is ignored there).
 */
import type * as Zlib from 'node:zlib';
import { hasSyncBuiltins, loadNodeBuiltin, nodeBuiltin } from '../../runtime/builtins.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, nativeDecodeError } from './byte-sink.js';
import { gunzipPure, gzipPure } from './gzip-pure.js';

type ZlibGzip = Pick<typeof Zlib, 'gzipSync' | 'gunzipSync' | 'gzip' | 'gunzip'>;

let zlibModule: ZlibGzip | undefined;
let forcePure = false;

/** node:zlib, once found (a Map lookup until then: cheap next to any compression). */
function zlib(): ZlibGzip | undefined {
  if (forcePure) return undefined;
  return (zlibModule ??= nodeBuiltin<ZlibGzip>('node:zlib'));
}

// Where built-ins can only be imported asynchronously (Node < 20.16), start loading now so the first batch finds it.
if (!hasSyncBuiltins()) void loadNodeBuiltin('node:zlib');

/** For tests: run the pure-TS coder even where node:zlib exists. */
export function useGzipPure(pure: boolean): void {
  forcePure = pure;
}

/** `level` 1-9 as Kafka's compression.gzip.level (KIP-390); zlib's default (6) when absent, as Java's. */
export function gzipCompress(data: Uint8Array, level?: number): Buffer {
  const z = zlib();
  if (z === undefined) return gzipPure(data);
  return z.gzipSync(data, level === undefined ? undefined : { level });
}

export function gzipDecompress(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const z = zlib();
  if (z === undefined) return gunzipPure(data, maxBytes);
  try {
    return z.gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    throw nativeDecodeError('gzip', err, maxBytes);
  }
}

/** Off the main thread (libuv pool) with node:zlib: worth it for large batches. */
export async function gzipCompressAsync(data: Uint8Array, level?: number): Promise<Buffer> {
  const z = zlib();
  if (z === undefined) return gzipPure(data);
  return new Promise((resolve, reject) => z.gzip(data, level === undefined ? {} : { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

export async function gzipDecompressAsync(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  const z = zlib();
  if (z === undefined) return gunzipPure(data, maxBytes);
  try {
    return await new Promise<Buffer>((resolve, reject) => z.gunzip(data, { maxOutputLength: maxBytes }, (err, out) => (err ? reject(err) : resolve(out))));
  } catch (err) {
    throw nativeDecodeError('gzip', err, maxBytes);
  }
}
