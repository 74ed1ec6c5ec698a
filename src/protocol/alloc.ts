/**
 * Memory for bytes that live as long as their owner holds them (an encoded record batch awaiting its ack, a
 * decompressed batch whose records are views of it). Node hands out small `Buffer.allocUnsafe` buffers as views
 * of a shared slab: up to 4 KiB of an 8 KiB slab on Node 20/22, but up to 32 KiB of a 64 KiB one from Node 24
 * (Buffer.poolSize grew). A batch kept in such a view pins the whole slab, and a buffer that is handed back for
 * reuse must never be a slab (its neighbours belong to others). So from {@link EXACT_FROM} bytes these buffers
 * are allocated on their own, exactly sized, whatever the runtime's pool; smaller ones still use the pool.
 */

/** From this size a long-lived buffer gets memory of its own (Node 20's own pooling threshold). */
export const EXACT_FROM = 4096;

/** `size` bytes, uninitialised: exactly sized memory of its own from {@link EXACT_FROM} bytes, else Node's pool. */
export function allocOwned(size: number): Buffer {
  return size >= EXACT_FROM ? Buffer.allocUnsafeSlow(size) : Buffer.allocUnsafe(size);
}
