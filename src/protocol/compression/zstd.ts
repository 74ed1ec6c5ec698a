/**
 * zstd (KIP-110). Compression uses node:zlib's zstd when the runtime has it (Node 22.15+ / 23.8+), through a
 * reused context (zstd-context.ts) where the runtime lets us, else node:zlib's one-shot call. Older
 * runtimes get an HONEST FALLBACK: our small pure-TS compressor (zstd-encoder.ts: greedy matches, raw
 * literals, predefined FSE tables), valid zstd that every reader accepts, with ratios near LZ4's rather than
 * zstd's; levels are ignored there.
 * Decompression uses node:zlib when available (a reused context where we can drive one, one call per frame after
 * zstdFrameSpans checked the framing) and otherwise our pure-TS decoder (zstd-decoder.ts), so every runtime can
 * read what brokers and the Java client (zstd-jni) write.
 */
import { DecodeError } from '../../errors.js';
import { nodeBuiltin } from '../../runtime/builtins.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, nativeDecodeError } from './byte-sink.js';
import { zstdDecompressPure, zstdFrameSpans } from './zstd-decoder.js';
import { zstdCompressPure } from './zstd-encoder.js';
import { contextFor, decompressContext, dropDecompressContext, retireContexts } from './zstd-context.js';

type SyncCodec = (data: Uint8Array, options?: object) => Buffer;
type AsyncCodec = (data: Uint8Array, options: object, cb: (err: Error | null, out: Buffer) => void) => void;
/**
 * node:zlib where the runtime has it, found without a static import (`process.getBuiltinModule`: every Node with
 * zstd in zlib has it); otherwise an empty stand-in, and the pure-TS coder runs.
 */
const native = (nodeBuiltin<object>('node:zlib') ?? { constants: {} }) as unknown as {
  zstdCompressSync?: SyncCodec; zstdDecompressSync?: SyncCodec; zstdCompress?: AsyncCodec; zstdDecompress?: AsyncCodec;
  constants: { ZSTD_c_compressionLevel?: number; ZSTD_c_windowLog?: number };
};

/** True when node:zlib implements zstd on this runtime. */
export const hasNativeZstd = typeof native.zstdCompressSync === 'function' && typeof native.zstdDecompressSync === 'function';

const MAGIC = 0xfd2fb528;
const MAX_RAW_BLOCK = 128 * 1024;

/** A zstd frame of raw (stored) blocks: single segment, 4-byte content size, no checksum. For tests and tools. */
export function zstdStoredFrame(data: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_RAW_BLOCK));
  const out = Buffer.allocUnsafe(9 + blocks * 3 + data.length);
  out.writeUInt32LE(MAGIC, 0);
  out[4] = 0xa0; // FCS field of 4 bytes, single segment
  out.writeUInt32LE(data.length, 5);
  let o = 9;
  for (let start = 0, b = 0; b < blocks; b++, start += MAX_RAW_BLOCK) {
    const end = Math.min(start + MAX_RAW_BLOCK, data.length);
    const header = ((end - start) << 3) | (b === blocks - 1 ? 1 : 0); // raw block type 0
    out[o] = header & 0xff;
    out[o + 1] = (header >>> 8) & 0xff;
    out[o + 2] = header >>> 16;
    out.set(data.subarray(start, end), o + 3);
    o += 3 + end - start;
  }
  return out;
}

/**
 * node:zlib compresses as a stream that is never told the input's size, so zstd picks the window (and tables)
 * of an unbounded input (2 MiB at level 3), set up on every call and kept until the GC frees the context.
 * Every byte a match can reach is in the input, so a window just covering it (up to 256 KiB: no level's
 * unbounded-input window is smaller) writes the same frames with 1.07-1.69x less CPU per call and a fifth to
 * a third of the RSS growth (bench/src/zstd-window.bench.ts).
 */
const WINDOW_LOG_MIN = 10;
const WINDOW_LOG_SIZED_MAX = 18;

/** The window for `inputLength` bytes, or 0 for node:zlib's default (inputs over 256 KiB). */
function windowLogFor(inputLength: number): number {
  const windowLog = Math.max(WINDOW_LOG_MIN, Math.ceil(Math.log2(Math.max(1, inputLength))));
  return windowLog <= WINDOW_LOG_SIZED_MAX && native.constants.ZSTD_c_windowLog !== undefined ? windowLog : 0;
}

function compressOptions(level: number | undefined, windowLog: number): object {
  const params: Record<number, number> = {};
  const levelKey = native.constants.ZSTD_c_compressionLevel;
  if (level !== undefined && levelKey !== undefined) params[levelKey] = level;
  if (windowLog !== 0) params[native.constants.ZSTD_c_windowLog!] = windowLog;
  return { params };
}

/**
 * `level` as Kafka's compression.zstd.level (KIP-390); ignored by the pure-TS fallback. On node:zlib, one
 * reused context per (level, window) (zstd-context.ts) when the runtime lets us drive one, else a fresh one.
 */
export function zstdCompress(data: Uint8Array, level?: number): Buffer {
  if (!hasNativeZstd) return zstdCompressPure(data);
  const windowLog = windowLogFor(data.length);
  const ctx = contextFor(`${level}/${windowLog}`, () => compressOptions(level, windowLog));
  if (ctx !== undefined) {
    try {
      return ctx.compress(data);
    } catch {
      retireContexts(); // this call and every later one take node:zlib's one-shot path
    }
  }
  return native.zstdCompressSync!(data, compressOptions(level, windowLog));
}

/** The one-shot node:zlib call with the sized window, never a reused context: for tests and the bench. */
export function zstdCompressOneShot(data: Uint8Array, level?: number): Buffer {
  if (!hasNativeZstd) return zstdCompressPure(data);
  return native.zstdCompressSync!(data, compressOptions(level, windowLogFor(data.length)));
}

export function zstdDecompress(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  if (!hasNativeZstd) return zstdDecompressPure(data, maxBytes);
  const spans = zstdFrameSpans(data);
  if (isOneFrame(spans, data)) return nativeDecompress(data, spans[2]!, maxBytes);
  // Several frames, or skippable ones: node:zlib's one-shot call stops after the first, so one call per frame.
  const parts: Buffer[] = [];
  let total = 0;
  for (let k = 0; k < spans.length; k += 3) {
    const part = nativeDecompress(data.subarray(spans[k]!, spans[k + 1]!), spans[k + 2]!, maxBytes - total);
    total += part.length;
    parts.push(part);
  }
  return Buffer.concat(parts, total);
}

function isOneFrame(spans: readonly number[], data: Uint8Array): boolean {
  return spans.length === 3 && spans[0] === 0 && spans[1] === data.length;
}

/** One whole frame: through the shared native context where there is one, else node:zlib's one-shot call. */
function nativeDecompress(frame: Uint8Array, contentSize: number, maxBytes: number): Buffer {
  const ctx = decompressContext();
  if (ctx !== undefined) {
    try {
      return ctx.decompress(frame, contentSize, maxBytes);
    } catch (err) {
      dropDecompressContext(); // it stopped mid-frame
      if (err instanceof RangeError) throw new DecodeError(`zstd: ${err.message}`, undefined, { cause: err });
      // The frame is bad, or the context was: the one-shot call below tells which and reports the frame's error.
    }
  }
  if (maxBytes < 1) throw new DecodeError(`zstd: output exceeds the limit`);
  try {
    return native.zstdDecompressSync!(frame, { maxOutputLength: maxBytes });
  } catch (err) {
    throw nativeDecodeError('zstd', err, maxBytes);
  }
}

/** On libuv's pool when node:zlib has zstd; otherwise the synchronous path. */
export async function zstdCompressAsync(data: Uint8Array, level?: number): Promise<Buffer> {
  if (!hasNativeZstd || native.zstdCompress === undefined) return zstdCompress(data, level);
  return callAsync(native.zstdCompress, data, compressOptions(level, windowLogFor(data.length)));
}

export async function zstdDecompressAsync(data: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  if (!hasNativeZstd || native.zstdDecompress === undefined) return zstdDecompress(data, maxBytes);
  if (!isOneFrame(zstdFrameSpans(data), data)) return zstdDecompress(data, maxBytes);
  try {
    return await callAsync(native.zstdDecompress, data, { maxOutputLength: maxBytes });
  } catch (err) {
    throw nativeDecodeError('zstd', err, maxBytes);
  }
}

/** One node:zlib callback-style call as a promise. */
function callAsync(codec: AsyncCodec, data: Uint8Array, options: object): Promise<Buffer> {
  return new Promise((resolve, reject) => codec(data, options, (err, out) => (err ? reject(err) : resolve(out))));
}
