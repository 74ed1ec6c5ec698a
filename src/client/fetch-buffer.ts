/**
 * The fetcher's prefetch buffer: decoded batches waiting for the application, per partition, bounded in bytes.
 *
 * Bytes are counted from the moment a fetch response is buffered until the application says it is done with
 * them through {@link FetchBuffer.consumed} (not merely when they are handed out), so a batch sitting in a slow
 * handler still counts against the bounds: prefetch memory is `buffered + delivered-but-unconsumed`, and the
 * fetcher stops asking for a partition above `maxPartitionBytes` and for anything above `maxBytes`.
 *
 * Runs are views of their fetch response, which stays in memory as a whole until its last run is consumed: one
 * slow partition pins the response's other partitions' bytes too. So the total counts what is really kept, each
 * response's frame whole from its first run buffered until its last run consumed ({@link FetchFrame}), while a
 * partition counts its own runs.
 *
 * Delivery is round-robin over partitions with data (one FetchedBatch per turn), in offset order within a
 * partition; paused partitions keep their data but are skipped. `tryNext()` takes without a promise when data is
 * there; `next(signal)` waits.
 */
import { ClosedError } from '../errors.js';
import type { BatchRecordReader, RecordBatch } from '../protocol/record-batch.js';
import type { KafkaRecord } from '../protocol/record-batch.js';

/** A run of batches of one partition from one fetch response. Batches are zero-copy views of the response. */
export interface FetchedBatch {
  topic: string;
  partition: number;
  /** Data batches in offset order (control batches and aborted transactions already removed). */
  batches: RecordBatch[];
  /** Records below this offset belong to an earlier position (a compressed batch starts before it): skip them. */
  fromOffset: number;
  /** Where the partition continues after these batches: the position to commit once all are processed. */
  nextOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** Bytes of the batches, as counted against the partition's prefetch bound. */
  bytes: number;
  /** The fetch response the batches are views of, counted whole against the total bound while any of its runs is held. */
  frame?: FetchFrame;
}

/** A fetch response shared by the runs cut from it: `bytes` is the memory they keep alive together. */
export interface FetchFrame {
  readonly bytes: number;
  /** Runs of this frame buffered or delivered and not yet consumed. */
  held: number;
}

/**
 * The records of `run` at or after its `fromOffset`, in order, each batch decoded (and decompressed) when the
 * walk reaches it, one record at a time: only the records the caller still holds stay alive, not whole decoded
 * batches. A plain cursor rather than a generator, so per-record consume loops pay no generator step;
 * {@link fetchedRecords} is the iterable form. `leaderEpoch` is that of the batch of the record last returned.
 */
export class FetchedRecordCursor {
  leaderEpoch = -1;
  private batchIndex = 0;
  private reader: BatchRecordReader | undefined = undefined;

  private readonly from: number;

  constructor(readonly run: FetchedBatch) {
    this.from = run.fromOffset;
  }

  /** The next record, or undefined once the run is done. */
  next(): KafkaRecord | undefined {
    // Fast path, small enough to inline into the caller: the next record of the current batch.
    const r = this.reader?.next();
    if (r !== undefined && r.offset >= this.from) return r;
    return this.advance();
  }

  private advance(): KafkaRecord | undefined {
    for (;;) {
      if (this.reader !== undefined) {
        for (let r = this.reader.next(); r !== undefined; r = this.reader.next()) if (r.offset >= this.from) return r;
      }
      const batches = this.run.batches;
      if (this.batchIndex >= batches.length) {
        this.reader = undefined;
        return undefined;
      }
      const b = batches[this.batchIndex++]!;
      if (b.lastOffset < this.from) continue;
      this.leaderEpoch = b.partitionLeaderEpoch;
      this.reader = b.recordReader();
    }
  }
}

/** The records of `f` at or after its `fromOffset`, in order (decoding and decompressing each batch once). */
export function* fetchedRecords(f: FetchedBatch): Generator<KafkaRecord> {
  const c = new FetchedRecordCursor(f);
  for (let r = c.next(); r !== undefined; r = c.next()) yield r;
}

/** What the buffer keeps for one partition. */
export interface BufferedPartition {
  readonly topic: string;
  readonly partition: number;
  paused: boolean;
  /** Buffered plus delivered-but-not-consumed bytes. */
  bytes: number;
  /** Not yet handed out. */
  readonly queue: FetchedBatch[];
  /** Handed out, waiting for `consumed`. */
  readonly delivered: FetchedBatch[];
  /** Whether the partition sits in the round-robin ring. */
  ready: boolean;
}

interface Waiter {
  resolve(b: FetchedBatch): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class FetchBuffer {
  /** Bytes kept alive: whole frames while any of their runs is held, plus the runs that have no frame. */
  bytes = 0;
  private ring: BufferedPartition[] = [];
  private head = 0;
  private readonly waiters: Waiter[] = [];
  private closedWith: Error | undefined;
  /** Called when bytes are released, so the fetcher can resume partitions that were over their bound. */
  onRelease: (() => void) | undefined;

  /** A fresh partition record for the buffer. */
  static partition(topic: string, partition: number): BufferedPartition {
    return { topic, partition, paused: false, bytes: 0, queue: [], delivered: [], ready: false };
  }

  /** Adds a fetched run at the end of its partition's queue (or hands it to a waiting reader). */
  push(p: BufferedPartition, f: FetchedBatch): void {
    p.bytes += f.bytes;
    const frame = f.frame;
    if (frame === undefined) this.bytes += f.bytes;
    else if (frame.held++ === 0) this.bytes += frame.bytes;
    if (!p.paused && p.queue.length === 0 && this.waiters.length > 0) {
      p.delivered.push(f);
      this.settle(this.waiters.shift()!, f);
      return;
    }
    p.queue.push(f);
    this.enqueue(p);
  }

  /** The next run from the partition whose turn it is, without waiting; undefined when none is ready. */
  tryNext(): FetchedBatch | undefined {
    while (this.head < this.ring.length) {
      const p = this.ring[this.head++]!;
      p.ready = false;
      if (p.paused || p.queue.length === 0) continue;
      const f = p.queue.shift()!;
      p.delivered.push(f);
      if (p.queue.length > 0) this.enqueue(p);
      this.compact();
      return f;
    }
    this.ring = [];
    this.head = 0;
    return undefined;
  }

  /** The next run, waiting for one; rejects when `signal` aborts or the buffer closes. */
  next(signal?: AbortSignal): Promise<FetchedBatch> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const f = this.tryNext();
    if (f) return Promise.resolve(f);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<FetchedBatch>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  /**
   * The application is done with `p` below `nextOffset`: runs that end at or before it stop counting. Returns
   * the bytes released.
   */
  consumed(p: BufferedPartition, nextOffset: number): number {
    let released = 0;
    while (p.delivered.length > 0 && p.delivered[0]!.nextOffset <= nextOffset) released += this.drop(p, p.delivered.shift()!);
    if (released > 0) this.onRelease?.();
    return released;
  }

  /** Drops everything of `p` (seek, reset, unassign): its bytes no longer count. */
  clear(p: BufferedPartition): void {
    let released = 0;
    for (const f of p.queue) released += this.drop(p, f);
    for (const f of p.delivered) released += this.drop(p, f);
    p.queue.length = 0;
    p.delivered.length = 0;
    if (released > 0) this.onRelease?.();
  }

  pause(p: BufferedPartition): void {
    p.paused = true;
  }

  resume(p: BufferedPartition): void {
    p.paused = false;
    if (p.queue.length === 0) return;
    // A reader may be waiting for exactly this data.
    if (this.waiters.length > 0) {
      const f = p.queue.shift()!;
      p.delivered.push(f);
      this.settle(this.waiters.shift()!, f);
    }
    if (p.queue.length > 0) this.enqueue(p);
  }

  /** Rejects one waiting `next` with `err`; false when nobody waits (the caller keeps the error for later). */
  failOne(err: unknown): boolean {
    const w = this.waiters.shift();
    if (!w) return false;
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
    w.reject(err);
    return true;
  }

  /** Fails every waiting and later `next` with `err` (a ClosedError by default). */
  close(err: Error = new ClosedError('the fetcher is closed')): void {
    this.closedWith ??= err;
    for (const w of this.waiters.splice(0)) {
      if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
      w.reject(this.closedWith);
    }
  }

  /** Stops counting run `f` of `p`; returns the partition's bytes released (its frame's go once its last run goes). */
  private drop(p: BufferedPartition, f: FetchedBatch): number {
    p.bytes -= f.bytes;
    const frame = f.frame;
    if (frame === undefined) this.bytes -= f.bytes;
    else if (--frame.held === 0) this.bytes -= frame.bytes;
    return f.bytes;
  }

  private enqueue(p: BufferedPartition): void {
    if (p.ready) return;
    p.ready = true;
    this.ring.push(p);
  }

  private settle(w: Waiter, f: FetchedBatch): void {
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
    w.resolve(f);
  }

  /** Keeps the ring array from growing without bound as the head advances. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.head);
      this.head = 0;
    }
  }
}
