/**
 * The four codecs Kafka's record batches may use, behind one small interface keyed by the codec id of the
 * batch attributes (bits 0-2): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (KIP-110). Every decompressor bounds its
 * output (`maxBytes`, default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}) and fails on hostile input with a
 * DecodeError only. gzip and zstd also have async variants that run on libuv's pool.
 */
import { DecodeError, UnsupportedVersionError } from '../../errors.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './byte-sink.js';
import { gzipCompress, gzipCompressAsync, gzipDecompress, gzipDecompressAsync } from './gzip.js';
import { lz4Compress, lz4Decompress } from './lz4.js';
import { snappyCompress, snappyDecompress } from './snappy.js';
import { zstdCompress, zstdCompressAsync, zstdDecompress, zstdDecompressAsync } from './zstd.js';

export { DEFAULT_MAX_DECOMPRESSED_BYTES } from './byte-sink.js';
export { hasNativeZstd } from './zstd.js';

/** Codec ids as in the attributes of a RecordBatch v2. */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodec = (typeof Compression)[keyof typeof Compression];
export type CompressionName = keyof typeof Compression;

const NAMES = Object.keys(Compression) as readonly CompressionName[];

/** The name of a codec id, e.g. for logs; throws for ids Kafka does not define. */
export function compressionName(codec: number): CompressionName {
  const name = NAMES[codec];
  if (name === undefined) throw new UnsupportedVersionError(`unknown compression codec ${codec}`);
  return name;
}

/**
 * Compresses `data` with `codec` (0 returns it unchanged). `level` applies to gzip and (native) zstd as
 * Kafka's compression.<codec>.level (KIP-390); snappy has none and our LZ4 has one fast level.
 */
export function compress(codec: CompressionCodec | number, data: Uint8Array, level?: number): Buffer {
  switch (codec) {
    case 0:
      return Buffer.from(data.buffer, data.byteOffset, data.length);
    case 1:
      return gzipCompress(data, level);
    case 2:
      return snappyCompress(data);
    case 3:
      return lz4Compress(data);
    case 4:
      return zstdCompress(data, level);
    default:
      throw new UnsupportedVersionError(`unknown compression codec ${codec}`);
  }
}

/** Decompresses `data` written with `codec`; the output never exceeds `maxBytes`. */
export function decompress(codec: CompressionCodec | number, data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  switch (codec) {
    case 0:
      return Buffer.from(data.buffer, data.byteOffset, data.length);
    case 1:
      return gzipDecompress(data, maxBytes);
    case 2:
      return snappyDecompress(data, maxBytes);
    case 3:
      return lz4Decompress(data, maxBytes);
    case 4:
      return zstdDecompress(data, maxBytes);
    default:
      throw new DecodeError(`unknown compression codec ${codec} in batch attributes`);
  }
}

/** As {@link compress}, but gzip (and zstd where node:zlib has it) run on libuv's thread pool. */
export async function compressAsync(codec: CompressionCodec | number, data: Uint8Array, level?: number): Promise<Buffer> {
  if (codec === 1) return gzipCompressAsync(data, level);
  if (codec === 4) return zstdCompressAsync(data, level);
  return compress(codec, data, level);
}

/** As {@link decompress}, but gzip (and zstd where node:zlib has it) run on libuv's thread pool. */
export async function decompressAsync(codec: CompressionCodec | number, data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  if (codec === 1) return gzipDecompressAsync(data, maxBytes);
  if (codec === 4) return zstdDecompressAsync(data, maxBytes);
  return decompress(codec, data, maxBytes);
}
