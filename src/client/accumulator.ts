/**
 * The record accumulator: per partition, a queue of batches that fill up while the producer lingers, and the
 * memory bound over all of them. Kafka's `linger.ms`, `batch.size` and `buffer.memory`, with backpressure as a
 * return value (undici style): `append` always keeps the record, and the caller learns from
 * {@link Accumulator.full} that it should wait for {@link Accumulator.waitForSpace} before appending more.
 *
 * Records are kept as the caller gave them (no copy) until the sender encodes a batch, once, into a RecordBatch
 * v2. Each record remembers the {@link Delivery} it came with, so one callback reports on a whole `send` call.
 */
import type { RecordHeaderInput } from '../protocol/record-batch.js';
import { RECORD_BATCH_HEADER_SIZE } from '../protocol/record-batch.js';
import { PartitionSequence } from './idempotence.js';

/** A record to produce. Absent key/value are null; an absent timestamp becomes the batch's creation time. */
export interface ProducerRecord {
  /** Required unless the send call's {@link SendContext} names the topic. */
  topic?: string;
  key?: Uint8Array | string | null;
  value?: Uint8Array | string | null;
  headers?: readonly RecordHeaderInput[];
  /** An explicit partition wins over the key hash. */
  partition?: number | null;
  /** Milliseconds since the epoch (CreateTime). */
  timestamp?: number;
}

/** Outcome of one `send` call, in the order of its records. */
export interface DeliveryReport {
  readonly records: readonly ProducerRecord[];
  /** Partition each record went to (-1 when it failed before a partition was chosen). */
  readonly partitions: Int32Array;
  /** Offset of each record; -1 when it failed, with acks=0, or for a duplicate the broker had already written. */
  readonly offsets: Float64Array;
  /** Null when every record was written; else the error of each failed record (undefined for the others). */
  readonly errors: ReadonlyArray<Error | undefined> | null;
}

/** Called once per `send` call, when every one of its records is written or has failed. */
export type DeliveryCallback = (report: DeliveryReport) => void;

/**
 * What every record of one `send` call shares, given once: the topic (records' own `topic` is then ignored) and
 * headers written before each record's own. The channel Producer hands its users' messages over as they are,
 * with no record object per message.
 */
export interface SendContext {
  topic?: string;
  headers?: readonly RecordHeaderInput[];
  /** The caller already passed every record through `recordProblem` (record-check.ts): the engine skips its own pass. */
  checked?: boolean;
}

const NO_DEFAULTS: SendContext = {};

/** The tracker of one `send` call: typed arrays, no object per record. */
export class Delivery implements DeliveryReport {
  readonly records: readonly ProducerRecord[];
  readonly partitions: Int32Array;
  readonly offsets: Float64Array;
  errors: Array<Error | undefined> | null = null;
  /** Shared by every record of the call (see {@link SendContext}). */
  readonly defaults: SendContext;
  private pending: number;
  private readonly callback: DeliveryCallback | undefined;

  constructor(records: readonly ProducerRecord[], callback: DeliveryCallback | undefined, defaults: SendContext = NO_DEFAULTS) {
    this.records = records;
    this.defaults = defaults;
    this.partitions = new Int32Array(records.length).fill(-1);
    this.offsets = new Float64Array(records.length).fill(-1);
    this.pending = records.length;
    this.callback = callback;
    if (records.length === 0) this.finish();
  }

  /** Record `index` was written at `offset` (-1 when unknown). */
  succeed(index: number, offset: number): void {
    this.offsets[index] = offset;
    if (--this.pending === 0) this.finish();
  }

  /** Record `index` failed with `error`. */
  fail(index: number, error: Error): void {
    (this.errors ??= new Array<Error | undefined>(this.records.length))[index] = error;
    if (--this.pending === 0) this.finish();
  }

  private finish(): void {
    // A throwing callback is the caller's bug; it must not break the sender for every other record.
    try {
      this.callback?.(this);
    } catch (err) {
      queueMicrotask(() => { throw err; });
    }
  }
}

/** Upper bound of a record's framing in a batch: length, attributes, timestamp and offset deltas, counts. */
const RECORD_OVERHEAD = 21;

function dataSize(d: Uint8Array | string | null | undefined): number {
  if (typeof d === 'string') return Buffer.byteLength(d, 'utf8');
  // Anything but bytes counts 0 (the record was checked at send; one changed since fails when encoded), so the
  // memory bound never turns NaN.
  return d instanceof Uint8Array ? d.length : 0;
}

/** Estimated encoded size of `r` (uncompressed): what batch.size and the memory bound count. */
export function estimateRecordSize(r: ProducerRecord): number {
  const size = RECORD_OVERHEAD + dataSize(r.key) + dataSize(r.value);
  const headers = r.headers;
  return Array.isArray(headers) ? size + estimateHeadersSize(headers) : size;
}

/** Estimated encoded size of a record's headers. */
export function estimateHeadersSize(headers: readonly RecordHeaderInput[]): number {
  let size = 0;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (h !== null && typeof h === 'object') size += 10 + dataSize(h.key) + dataSize(h.value);
  }
  return size;
}

/**
 * Records bound for one partition, sent as one RecordBatch v2. Parallel arrays (record, its delivery, its index
 * there) instead of one object per record.
 */
export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly createdAt: number;
  readonly records: ProducerRecord[] = [];
  readonly owners: Delivery[] = [];
  readonly indexes: number[] = [];
  /** Headers before every record's own: all records of a batch share them (see {@link SendContext}). */
  readonly leadingHeaders: readonly RecordHeaderInput[] | undefined;
  /** Estimated encoded size. */
  sizeBytes = RECORD_BATCH_HEADER_SIZE;
  /** No more appends: full, or taken by the sender. */
  closed = false;
  /** The encoded batch, made on first send and reused (re-stamped only) on retries. */
  encoded: Buffer | undefined;
  baseSequence = -1;
  /** ProducerIdentity.generation the batch is stamped with (-1: not stamped). */
  generation = -1;
  /** Sends so far. */
  attempts = 0;
  /** Why the last attempt failed: the cause of a delivery timeout. */
  lastError: unknown;
  /** Put back after a failed attempt (counted in its queue's `retrying` until done). */
  requeued = false;
  /** Not before this time (retry backoff). */
  retryAt = 0;
  /** Position among the partition's sent batches, so retries go back in their original order. */
  order = -1;

  constructor(topic: string, partition: number, createdAt: number, leadingHeaders?: readonly RecordHeaderInput[]) {
    this.topic = topic;
    this.partition = partition;
    this.createdAt = createdAt;
    this.leadingHeaders = leadingHeaders;
  }

  get recordCount(): number {
    return this.records.length;
  }

  /** Every record written: `baseOffset` of the first (-1 when unknown). */
  succeed(baseOffset: number): void {
    const { owners, indexes } = this;
    for (let i = 0; i < owners.length; i++) owners[i]!.succeed(indexes[i]!, baseOffset < 0 ? -1 : baseOffset + i);
  }

  /** Every record failed with `error`. */
  fail(error: Error): void {
    const { owners, indexes } = this;
    for (let i = 0; i < owners.length; i++) owners[i]!.fail(indexes[i]!, error);
  }
}

/** The batches of one partition, oldest first, and the partition's in-flight and sequence state. */
export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  readonly batches: ProducerBatch[] = [];
  /** Batches sent and not yet answered. */
  inFlight = 0;
  /** Batches being retried (queued or in flight): while any is, the partition sends one batch at a time. */
  retrying = 0;
  readonly sequence = new PartitionSequence();
  /** Next `order` to give a batch on its first send. */
  nextOrder = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** Puts a failed batch back for another attempt, before every batch sent after it. */
  requeue(batch: ProducerBatch): void {
    const list = this.batches;
    let i = 0;
    while (i < list.length && list[i]!.order >= 0 && list[i]!.order < batch.order) i++;
    list.splice(i, 0, batch);
  }
}

export interface AccumulatorOptions {
  /** Kafka's `batch.size`: a batch is closed and ready once it would exceed this many bytes. */
  batchBytes: number;
  /** Kafka's `buffer.memory`: past this many buffered bytes `append` asks the caller to wait. */
  maxBufferedBytes: number;
}

/** Per-partition batch queues and the memory bound. */
export class Accumulator {
  private readonly options: AccumulatorOptions;
  private readonly topics = new Map<string, PartitionQueue[]>();
  /** Every queue, for the sender's scan. */
  readonly queues: PartitionQueue[] = [];
  /** Estimated bytes of records accepted and not yet written or failed. */
  bufferedBytes = 0;
  /** Records accepted and not yet written or failed (queued or in flight). */
  bufferedRecords = 0;
  /** Batches closed because they were full and not yet taken: the sender need not wait for linger. */
  fullBatches = 0;
  private spaceWaiters: Array<() => void> = [];

  constructor(options: AccumulatorOptions) {
    this.options = options;
  }

  /** The queue of a partition, created on first use. */
  queue(topic: string, partition: number): PartitionQueue {
    let list = this.topics.get(topic);
    if (list === undefined) this.topics.set(topic, (list = []));
    let q = list[partition];
    if (q === undefined) {
      q = list[partition] = new PartitionQueue(topic, partition);
      this.queues.push(q);
    }
    return q;
  }

  /** True when a record of `size` bytes joins the partition's open batch rather than starting a new one. */
  fits(topic: string, partition: number, size: number): boolean {
    const q = this.topics.get(topic)?.[partition];
    const last = q?.batches[q.batches.length - 1];
    return last !== undefined && !last.closed && last.sizeBytes + size <= this.options.batchBytes;
  }

  /**
   * Adds record `index` of `owner` to the partition's open batch, or a new one. Returns true when a batch became
   * full (the sender should run now rather than after linger).
   */
  append(record: ProducerRecord, size: number, partition: number, owner: Delivery, index: number, now: number): boolean {
    const topic = owner.defaults.topic ?? record.topic!;
    const leading = owner.defaults.headers;
    const q = this.queue(topic, partition);
    let batch = q.batches[q.batches.length - 1];
    let filled = false;
    if (batch === undefined || batch.closed || batch.leadingHeaders !== leading
      || (batch.sizeBytes + size > this.options.batchBytes && batch.records.length > 0)) {
      if (batch !== undefined && !batch.closed) {
        batch.closed = true;
        this.fullBatches++;
        filled = true;
      }
      batch = new ProducerBatch(topic, partition, now, leading);
      q.batches.push(batch);
    }
    batch.records.push(record);
    batch.owners.push(owner);
    batch.indexes.push(index);
    batch.sizeBytes += size;
    owner.partitions[index] = partition;
    this.bufferedBytes += size;
    this.bufferedRecords++;
    if (batch.sizeBytes >= this.options.batchBytes) {
      batch.closed = true;
      this.fullBatches++;
      filled = true;
    }
    return filled;
  }

  /** Takes the head batch of `q` for sending, closing it to appends. */
  take(q: PartitionQueue): ProducerBatch {
    const batch = q.batches.shift()!;
    if (batch.closed) {
      if (batch.attempts === 0) this.fullBatches--;
    } else {
      batch.closed = true;
    }
    return batch;
  }

  /** A batch is done (written or failed): its bytes leave the bound. */
  release(batch: ProducerBatch): void {
    this.bufferedBytes -= batch.sizeBytes - RECORD_BATCH_HEADER_SIZE;
    this.bufferedRecords -= batch.records.length;
    if (this.spaceWaiters.length > 0 && !this.full) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Records not in any batch (waiting for metadata) count too; `adjust` adds or removes their bytes. */
  adjust(bytes: number, records: number): void {
    this.bufferedBytes += bytes;
    this.bufferedRecords += records;
    if (bytes < 0 && this.spaceWaiters.length > 0 && !this.full) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** At or over the memory bound: the caller should wait before appending more. */
  get full(): boolean {
    return this.bufferedBytes >= this.options.maxBufferedBytes;
  }

  /** Resolves once the buffered bytes are below the bound (at once if they are). */
  waitForSpace(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }
}
