/**
 * Recycled memory for encoded record batches. A freshly allocated buffer of 100+ KiB is fresh pages: the first
 * write to each faults it in and the kernel zeroes it, so copying records into new buffers ran at ~2-4 GB/s
 * on our machines against ~20 GB/s into reused ones. The producer engine encodes each batch into a buffer taken
 * here and gives it back once the broker has acknowledged the batch (its bytes have long left the socket then).
 *
 * Buffers come in classes of {@link CLASS_BYTES} steps; at most `maxBytes` are kept, the rest are left to the GC.
 * Small requests are plain allocations (alloc.ts: Node's slab below 4 KiB, memory of their own above). Only memory
 * this pool allocated is ever taken back: from Node 24 a small allocation is a view of a 64 KiB slab, a multiple of
 * the class size, and recycling that slab would hand other owners' bytes to the next batch.
 */
import { allocOwned } from '../protocol/alloc.js';
import type { BatchBuffers } from '../protocol/record-batch.js';

const CLASS_BYTES = 16 * 1024;
/** Below this a buffer is not pooled. */
const MIN_POOLED = 16 * 1024;

export class BufferPool implements BatchBuffers {
  private readonly free = new Map<number, Buffer[]>();
  private readonly maxBytes: number;
  private readonly maxBuffer: number;
  /** The class-sized memory this pool allocated: the only memory {@link give} takes back. */
  private readonly own = new WeakSet<ArrayBufferLike>();
  /** Bytes held for reuse. */
  pooledBytes = 0;

  /** `maxBytes`: at most this much is kept for reuse; buffers larger than `maxBuffer` are never pooled. */
  constructor(maxBytes: number, maxBuffer = maxBytes) {
    this.maxBytes = maxBytes;
    this.maxBuffer = maxBuffer;
  }

  /** A buffer of at least `size` bytes (contents undefined): a pooled one of its class, else a new one. */
  take(size: number): Buffer {
    if (size < MIN_POOLED || size > this.maxBuffer) return allocOwned(size);
    const cls = Math.ceil(size / CLASS_BYTES) * CLASS_BYTES;
    const list = this.free.get(cls);
    const buf = list?.pop();
    if (buf === undefined) {
      const fresh = Buffer.allocUnsafeSlow(cls);
      this.own.add(fresh.buffer);
      return fresh;
    }
    this.pooledBytes -= cls;
    return buf;
  }

  /**
   * Returns memory from {@link take} (any view of it). The caller must hold no other reference to it: its bytes
   * are overwritten by the next batch.
   */
  give(view: Buffer): void {
    const ab = view.buffer;
    const cls = ab.byteLength;
    // Only memory taken here: never a view of a shared slab (a small allocation), whatever its size.
    if (!this.own.has(ab) || cls < MIN_POOLED || cls % CLASS_BYTES !== 0 || cls > this.maxBuffer || this.pooledBytes + cls > this.maxBytes) return;
    let list = this.free.get(cls);
    if (list === undefined) this.free.set(cls, (list = []));
    list.push(view.byteOffset === 0 && view.length === cls ? view : Buffer.from(ab, 0, cls));
    this.pooledBytes += cls;
  }

  /** Drops everything held. */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}
