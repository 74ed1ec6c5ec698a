/**
 * Reusable native zstd contexts, for compression (one per level and window) and decompression (one). node:zlib's public one-shot `zstdCompressSync` builds a fresh
 * ZSTD_CCtx (hash and chain tables, window buffer) on every call and leaves it for the GC; for a producer's
 * 16-128 KiB batches that setup costs as much as the compression itself, and the dead contexts grow RSS by
 * hundreds of MiB (bench/src/zstd-window.bench.ts). zstd's own API is made for reuse: after a frame ends
 * (ZSTD_e_end) the context starts the next frame from a clean state, so the bytes are identical to a fresh
 * context's (checked on creation and in test/protocol/compression.test.ts).
 *
 * Node's zlib streams expose no synchronous "compress this frame" call, so we drive the stream's native handle
 * the way node:zlib's own `processChunkSync` does (`_handle.writeSync` and the `_writeState` pair). That is an
 * internal of Node, so everything is feature-checked: on a runtime without it (Bun, Deno, a future Node), or on
 * any failure, `contextFor` returns undefined and the caller uses the public one-shot call. Nothing is lost.
 */
import { nodeBuiltin } from '../../runtime/builtins.js';

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}
export interface ZstdStream {
  _handle?: NativeHandle | null;
  _writeState?: Uint32Array;
  destroyed: boolean;
  on(event: 'error', f: (err: Error) => void): unknown;
  close(): void;
}
/** node:zlib found without a static import (see zstd.ts); an empty stand-in where the runtime has none. */
const native = (nodeBuiltin<object>('node:zlib') ?? { constants: {} }) as unknown as {
  createZstdCompress?: (options: object) => ZstdStream;
  createZstdDecompress?: () => ZstdStream;
  zstdCompressSync?: (data: Uint8Array) => Buffer;
  zstdDecompressSync?: (data: Uint8Array) => Buffer;
  constants: { ZSTD_e_end?: number };
};

/** The handle and write state of a node:zlib stream, if it has the internals we drive. */
function driveable(stream: ZstdStream): { handle: NativeHandle; state: Uint32Array } | undefined {
  const handle = stream._handle, state = stream._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) return undefined;
  return { handle, state };
}

let probeBytes: Buffer | undefined;
/** Bytes to check a new context with (made on first use: the package loads even where Buffer is missing). */
const probe = (): Buffer => (probeBytes ??= Buffer.from('kafka-channels zstd context probe, kafka-channels zstd context probe'));

/**
 * A node:zlib zstd stream whose native handle we write frames to directly. Once a write fails the context is
 * dead: node aborts the whole process on a write to a failed handle, so it is never written to again.
 */
abstract class DrivenStream {
  private dead = false;
  protected readonly handle: NativeHandle;
  protected readonly state: Uint32Array;

  protected constructor(protected readonly stream: ZstdStream & { errored?: Error | null }, parts: { handle: NativeHandle; state: Uint32Array }, protected readonly endFlag: number) {
    this.handle = parts.handle;
    this.state = parts.state;
    // A native failure destroys the stream, which emits 'error' on the next tick: never let that crash the process.
    stream.on('error', () => {});
  }

  /** `make(parts)` over `stream` if it can be driven and `roundTrips(ctx)` holds; else the stream is closed. */
  protected static probed<C extends DrivenStream>(stream: ZstdStream, make: (parts: { handle: NativeHandle; state: Uint32Array }) => C, roundTrips: (ctx: C) => boolean): C | undefined {
    const parts = driveable(stream);
    if (parts === undefined) {
      stream.close();
      return undefined;
    }
    const ctx = make(parts);
    let ok = false;
    try {
      ok = roundTrips(ctx);
    } catch {
      // a handle that fails, or writes what zstd cannot read: not usable
    }
    if (!ok) ctx.close();
    return ok ? ctx : undefined;
  }

  /** Runs `frame`; any throw marks the context dead. */
  protected guarded<T>(what: string, frame: () => T): T {
    if (this.dead) throw new Error(`zstd: this ${what} context failed before`);
    try {
      return frame();
    } catch (err) {
      this.dead = true; // mid-frame, or a failed handle
      throw err;
    }
  }

  close(): void {
    this.dead = true;
    this.stream.close();
  }
}

/** A few (level, window) pairs cover a producer's batch sizes; more are closed oldest first. */
const MAX_CONTEXTS = 8;
const contexts = new Map<string, ZstdContext | null>();
let broken = false;

export class ZstdContext extends DrivenStream {
  private scratch = Buffer.allocUnsafe(0);

  /** A context compressing with `options` (node:zlib's zstd options), or undefined where it cannot be driven. */
  static create(options: object): ZstdContext | undefined {
    const endFlag = native.constants.ZSTD_e_end;
    if (typeof native.createZstdCompress !== 'function' || endFlag === undefined) return undefined;
    return ZstdContext.over(native.createZstdCompress(options), endFlag);
  }

  /** A context over a node:zlib zstd stream, if it has the internals we drive and they round-trip a probe. */
  static over(stream: ZstdStream, endFlag: number): ZstdContext | undefined {
    return DrivenStream.probed(stream, (parts) => new ZstdContext(stream, parts, endFlag), (ctx) => native.zstdDecompressSync?.(ctx.compress(probe())).equals(probe()) === true);
  }

  /** One complete zstd frame of `data`, in a new Buffer. Throws if the native handle failed; then it is dead. */
  compress(data: Uint8Array): Buffer {
    return this.guarded('compression', () => this.compressFrame(data));
  }

  private compressFrame(data: Uint8Array): Buffer {
    const bound = compressBound(data.length);
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(bound);
    const out = this.scratch;
    this.handle.writeSync(this.endFlag, data, 0, data.length, out, 0, out.length);
    if (this.stream.destroyed) throw new Error('zstd: the native compression context failed');
    const availOut = this.state[0]!, availIn = this.state[1]!;
    // zstd's own bound always leaves room; were it ever full, the caller falls back to the one-shot call.
    if (availOut === 0 || availIn !== 0) throw new Error('zstd: the frame did not fit its bound');
    const written = out.length - availOut;
    const frame = Buffer.allocUnsafe(written);
    out.copy(frame, 0, 0, written);
    return frame;
  }
}

/** ZSTD_COMPRESSBOUND: the largest frame zstd can write for `n` bytes in one go. */
function compressBound(n: number): number {
  return n + (n >>> 8) + (n < 128 << 10 ? ((128 << 10) - n) >>> 11 : 0) + 64;
}

/** The shared context for `key` (built from `options` on first use), or undefined: use the one-shot call. */
export function contextFor(key: string, options: () => object): ZstdContext | undefined {
  if (broken) return undefined;
  let ctx = contexts.get(key);
  if (ctx === undefined) {
    try {
      ctx = ZstdContext.create(options()) ?? null;
    } catch {
      ctx = null; // e.g. a level node:zlib rejects: the one-shot call reports it to the caller
    }
    if (contexts.size >= MAX_CONTEXTS) {
      const [oldest, old] = contexts.entries().next().value as [string, ZstdContext | null];
      old?.close();
      contexts.delete(oldest);
    }
    contexts.set(key, ctx);
  }
  return ctx ?? undefined;
}

/** After a compression context failed: stop reusing contexts in this process; the one-shot calls take over. */
export function retireContexts(): void {
  broken = true;
  for (const ctx of contexts.values()) ctx?.close();
  contexts.clear();
  dropDecompressContext();
}

/** For tests: reuse contexts again after {@link retireContexts}. */
export function allowContexts(): void {
  broken = false;
}

/** For tests: how many (level, window) keys hold a context. */
export function contextCount(): number {
  let n = 0;
  for (const ctx of contexts.values()) if (ctx) n++;
  return n;
}

/** Largest output a frame of unknown size is grown to in the context (by copies); larger ones take the one-shot call. */
const GROW_LIMIT = 1 << 20;

/** Output kept between frames for frames without a content size; a larger one is not kept. */
const SCRATCH_KEEP = 1 << 20;

/**
 * One native decompression context, reused frame after frame: node:zlib's one-shot call sets up a ZSTD_DCtx
 * per call, which costs more than decoding a producer's batch of a few KiB (bench/src/zstd-window.bench.ts).
 * The caller passes only whole frames (zstdFrameSpans checked their structure), so each call ends its frame and
 * leaves the context at a frame boundary.
 */
export class ZstdDecompressContext extends DrivenStream {
  private scratch = Buffer.allocUnsafe(64 << 10);

  /** A context over a fresh node:zlib zstd decompression stream, or undefined where it cannot be driven. */
  static create(): ZstdDecompressContext | undefined {
    const endFlag = native.constants.ZSTD_e_end;
    if (typeof native.createZstdDecompress !== 'function' || typeof native.zstdCompressSync !== 'function' || endFlag === undefined) return undefined;
    const stream = native.createZstdDecompress();
    const frame = native.zstdCompressSync(probe());
    return DrivenStream.probed(stream, (parts) => new ZstdDecompressContext(stream, parts, endFlag), (ctx) => ctx.decompress(frame, -1, 1 << 10).equals(probe()));
  }

  /**
   * The content of one whole frame, at most `maxBytes` (a `RangeError` beyond: the caller reports its limit).
   * `contentSize` from the frame header, or -1. Throws a plain Error if the native decoder rejected the frame;
   * the context is then dead.
   */
  decompress(frame: Uint8Array, contentSize: number, maxBytes: number): Buffer {
    return this.guarded('decompression', () => this.decompressFrame(frame, contentSize, maxBytes));
  }

  private decompressFrame(frame: Uint8Array, contentSize: number, maxBytes: number): Buffer {
    if (contentSize > maxBytes) throw new RangeError(`content size ${contentSize} exceeds the ${maxBytes}-byte limit`);
    // A known size gets its own buffer and one byte more, so that a frame that keeps going shows as a full buffer.
    const exact = contentSize >= 0;
    let out = exact ? Buffer.allocUnsafe(contentSize + 1) : this.scratch.length > maxBytes ? this.scratch.subarray(0, maxBytes + 1) : this.scratch;
    let inOff = 0, inLen = frame.length, written = 0;
    for (;;) {
      this.handle.writeSync(this.endFlag, frame, inOff, inLen, out, written, out.length - written);
      if (this.stream.destroyed) throw new Error(this.stream.errored?.message ?? 'the native decoder rejected the frame');
      const availOut = this.state[0]!, availIn = this.state[1]!;
      const progress = inLen - availIn + (out.length - availOut - written);
      inOff += inLen - availIn;
      inLen = availIn;
      written = out.length - availOut;
      if (availOut > 0 && inLen === 0) break; // all input taken with room left: the frame is out
      if (availOut === 0) {
        if (out.length > maxBytes) throw new RangeError(`output exceeds the ${maxBytes}-byte limit`);
        // Growing by copies would hold 1.5x the output (2.5x with garbage) when a bomb runs into the cap: a large
        // frame of unknown size goes to node:zlib's one-shot call instead, whose chunks stop at maxOutputLength.
        if (!exact && out.length >= GROW_LIMIT) throw new Error('a frame of unknown size past the context\'s growth limit');
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, out.length * 2));
        out.copy(bigger, 0, 0, written);
        out = bigger;
        if (!exact && bigger.length <= SCRATCH_KEEP) this.scratch = bigger;
      } else if (progress === 0) {
        throw new Error('the frame does not end'); // cannot happen for a whole frame; never spin on it
      }
    }
    if (exact && written !== contentSize) throw new Error(`frame produced ${written} bytes, header said ${contentSize}`);
    if (exact) return out.subarray(0, written);
    const result = Buffer.allocUnsafe(written);
    out.copy(result, 0, 0, written);
    return result;
  }
}

/** undefined: not made yet; null: this runtime cannot drive one. */
let decompressor: ZstdDecompressContext | null | undefined;

/** The shared decompression context, or undefined: use the one-shot call. */
export function decompressContext(): ZstdDecompressContext | undefined {
  if (broken) return undefined;
  if (decompressor === undefined) {
    try {
      decompressor = ZstdDecompressContext.create() ?? null;
    } catch {
      decompressor = null;
    }
  }
  return decompressor ?? undefined;
}

/** After a frame failed in the shared context: close it; the next frame gets a fresh one. */
export function dropDecompressContext(): void {
  decompressor?.close();
  decompressor = undefined;
}
