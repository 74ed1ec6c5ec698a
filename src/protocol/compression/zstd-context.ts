/**
 * Reusable native zstd compression contexts. node:zlib's public one-shot `zstdCompressSync` builds a fresh
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
import * as zlib from 'node:zlib';

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
const native = zlib as unknown as {
  createZstdCompress?: (options: object) => ZstdStream;
  zstdDecompressSync?: (data: Uint8Array) => Buffer;
  constants: { ZSTD_e_end?: number };
};

/** A few (level, window) pairs cover a producer's batch sizes; more are closed oldest first. */
const MAX_CONTEXTS = 8;
const contexts = new Map<string, ZstdContext | null>();
let broken = false;

export class ZstdContext {
  private scratch: Buffer;

  private constructor(private readonly stream: ZstdStream, private readonly handle: NativeHandle, private readonly state: Uint32Array, private readonly endFlag: number) {
    this.scratch = Buffer.allocUnsafe(0);
    // A native failure destroys the stream, which emits 'error' on the next tick: never let that crash the process.
    stream.on('error', () => {});
  }

  /** A context compressing with `options` (node:zlib's zstd options), or undefined where it cannot be driven. */
  static create(options: object): ZstdContext | undefined {
    const endFlag = native.constants.ZSTD_e_end;
    if (typeof native.createZstdCompress !== 'function' || endFlag === undefined) return undefined;
    return ZstdContext.over(native.createZstdCompress(options), endFlag);
  }

  /** A context over a node:zlib zstd stream, if it has the internals we drive and they round-trip a probe. */
  static over(stream: ZstdStream, endFlag: number): ZstdContext | undefined {
    const handle = stream._handle, state = stream._writeState;
    if (!handle || typeof handle.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
      stream.close();
      return undefined;
    }
    const ctx = new ZstdContext(stream, handle, state, endFlag);
    const probe = Buffer.from('kafka-channels zstd context probe, kafka-channels zstd context probe');
    let ok = false;
    try {
      ok = native.zstdDecompressSync?.(ctx.compress(probe)).equals(probe) === true;
    } catch {
      // a handle that fails or writes what zstd cannot read: not usable
    }
    if (!ok) ctx.close();
    return ok ? ctx : undefined;
  }

  /** One complete zstd frame of `data`, in a new Buffer. Throws if the native handle failed. */
  compress(data: Uint8Array): Buffer {
    const bound = compressBound(data.length);
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(bound);
    let out = this.scratch;
    let inOff = 0, inLen = data.length, written = 0;
    const chunks: Buffer[] = [];
    for (;;) {
      this.handle.writeSync(this.endFlag, data, inOff, inLen, out, written, out.length - written);
      if (this.stream.destroyed) throw new Error('zstd: the native compression context failed');
      const availOut = this.state[0]!, availIn = this.state[1]!;
      inOff += inLen - availIn;
      inLen = availIn;
      written = out.length - availOut;
      if (availOut !== 0) break; // room was left, so the frame is complete
      chunks.push(Buffer.from(out)); // the bound was not enough (it always is for zstd's own bound): keep going
      out = this.scratch;
      written = 0;
    }
    const last = Buffer.allocUnsafe(written);
    out.copy(last, 0, 0, written);
    return chunks.length === 0 ? last : Buffer.concat([...chunks, last]);
  }

  close(): void {
    this.stream.close();
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

/** Drops a context that failed and stops reusing contexts in this process: the one-shot call takes over. */
export function retireContexts(): void {
  broken = true;
  for (const ctx of contexts.values()) ctx?.close();
  contexts.clear();
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
