/**
 * One partition of the fake cluster: its leader, its log (RecordBatch v2 bytes, stored as sent with the base
 * offset and leader epoch stamped in), and the idempotent-producer state Kafka keeps per partition.
 *
 * Idempotence follows Kafka's broker rules (ProducerStateManager / ProducerAppendInfo, KIP-98 and KIP-360):
 * - a producer id the partition has no state for may start at any sequence (state lost or expired);
 * - an epoch lower than the partition's is INVALID_PRODUCER_EPOCH; a higher one must start at sequence 0;
 * - a batch equal (first and last sequence) to one of the last 5 written for that producer is a duplicate: it is
 *   answered with the offset it got the first time and not written again (or with DUPLICATE_SEQUENCE_NUMBER
 *   when the cluster is built with `duplicateSequenceError`, as brokers before 1.0 did);
 * - any other sequence than last + 1 (wrapping after 2^31-1) is OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
import { crc32c } from '../../src/protocol/crc32c.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { CRC_START, LOG_OVERHEAD, RECORD_BATCH_HEADER_SIZE } from '../../src/protocol/record-batch.js';

/** A batch in the log. */
export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  producerId: number;
  bytes: Buffer;
}

/** What the partition remembers of one producer id (Kafka keeps the last 5 batches' metadata). */
export interface ProducerEntry {
  epoch: number;
  lastSeq: number;
  recent: { firstSeq: number; lastSeq: number; baseOffset: number }[];
}

/** The outcome of an append, as a Produce response partition needs it. */
export interface AppendResult {
  errorCode: number;
  baseOffset: number;
  errorMessage?: string;
}

interface ParsedBatch {
  start: number;
  end: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  producerId: number;
  epoch: number;
  baseSeq: number;
  count: number;
}

/** Splits a Produce request's `records` into batches, checking sizes, magic and CRC-32C. */
export function parseBatches(records: Buffer): ParsedBatch[] | string {
  const out: ParsedBatch[] = [];
  let pos = 0;
  while (pos < records.length) {
    if (records.length - pos < RECORD_BATCH_HEADER_SIZE) return `truncated batch header at ${pos}`;
    const batchLength = records.readInt32BE(pos + 8);
    const end = pos + LOG_OVERHEAD + batchLength;
    if (batchLength < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD || end > records.length) return `batch length ${batchLength} at ${pos} runs past the data`;
    if (records[pos + 16] !== 2) return `magic ${records[pos + 16]} at ${pos}`;
    if (crc32c(records, pos + CRC_START, end) !== records.readUInt32BE(pos + 17)) return `CRC mismatch at ${pos}`;
    const lastOffsetDelta = records.readInt32BE(pos + 23);
    const count = records.readInt32BE(pos + 57);
    if (lastOffsetDelta < 0 || count <= 0 || count !== lastOffsetDelta + 1) return `record count ${count} does not match last offset delta ${lastOffsetDelta}`;
    out.push({
      start: pos, end, lastOffsetDelta, count,
      maxTimestamp: Number(records.readBigInt64BE(pos + 35)),
      producerId: Number(records.readBigInt64BE(pos + 43)),
      epoch: records.readInt16BE(pos + 51),
      baseSeq: records.readInt32BE(pos + 53),
    });
    pos = end;
  }
  return out.length ? out : 'no batch';
}

const inSequence = (last: number, next: number): boolean => next === (last === 0x7fffffff ? 0 : last + 1);

/** A partition: leader, log, producer state. */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  leader: number;
  leaderEpoch = 0;
  replicas: number[];
  readonly batches: StoredBatch[] = [];
  logStartOffset = 0;
  /** Next offset to assign; also the high watermark (every replica is in sync at once). */
  endOffset = 0;
  readonly producers = new Map<number, ProducerEntry>();
  /** Leader epochs and the offset each began at (Kafka's leader-epoch checkpoint), oldest first. */
  readonly epochs: { epoch: number; startOffset: number }[] = [{ epoch: 0, startOffset: 0 }];

  constructor(topic: string, partition: number, leader: number, replicas: number[]) {
    this.topic = topic;
    this.partition = partition;
    this.leader = leader;
    this.replicas = replicas;
  }

  /** Appends a Produce request's records; all its batches are checked before any is written. */
  append(records: Buffer | null, duplicateSequenceError: boolean): AppendResult {
    if (records === null || records.length === 0) return { errorCode: errorCodes.CORRUPT_MESSAGE, baseOffset: -1, errorMessage: 'no records' };
    const parsed = parseBatches(records);
    if (typeof parsed === 'string') return { errorCode: errorCodes.CORRUPT_MESSAGE, baseOffset: -1, errorMessage: parsed };
    const staged = new Map<number, ProducerEntry>();
    const entryOf = (pid: number): ProducerEntry | undefined => staged.get(pid) ?? this.producers.get(pid);
    for (const b of parsed) {
      if (b.producerId < 0) continue;
      const entry = entryOf(b.producerId);
      const lastSeq = b.baseSeq + b.lastOffsetDelta;
      if (entry && b.epoch === entry.epoch) {
        const dup = entry.recent.find((r) => r.firstSeq === b.baseSeq && r.lastSeq === lastSeq);
        if (dup) {
          if (duplicateSequenceError) return { errorCode: errorCodes.DUPLICATE_SEQUENCE_NUMBER, baseOffset: -1 };
          if (parsed.length === 1) return { errorCode: 0, baseOffset: dup.baseOffset };
        }
        if (!inSequence(entry.lastSeq, b.baseSeq)) {
          return { errorCode: errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1, errorMessage: `expected sequence ${entry.lastSeq + 1}, got ${b.baseSeq}` };
        }
      } else if (entry && b.epoch < entry.epoch) {
        return { errorCode: errorCodes.INVALID_PRODUCER_EPOCH, baseOffset: -1, errorMessage: `epoch ${b.epoch} is older than ${entry.epoch}` };
      } else if (entry && b.baseSeq !== 0) {
        return { errorCode: errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1, errorMessage: `a new epoch starts at sequence 0, got ${b.baseSeq}` };
      }
      const next: ProducerEntry = entry && entry.epoch === b.epoch ? { ...entry, recent: [...entry.recent] } : { epoch: b.epoch, lastSeq: -1, recent: [] };
      next.lastSeq = lastSeq;
      next.recent.push({ firstSeq: b.baseSeq, lastSeq, baseOffset: -1 });
      staged.set(b.producerId, next);
    }
    const baseOffset = this.endOffset;
    for (const b of parsed) {
      const bytes = Buffer.from(records.subarray(b.start, b.end));
      const offset = this.endOffset;
      bytes.writeBigInt64BE(BigInt(offset), 0);
      bytes.writeInt32BE(this.leaderEpoch, 12);
      this.batches.push({ baseOffset: offset, lastOffset: offset + b.lastOffsetDelta, maxTimestamp: b.maxTimestamp, producerId: b.producerId, bytes });
      this.endOffset = offset + b.count;
      const entry = b.producerId >= 0 ? staged.get(b.producerId) : undefined;
      const meta = entry?.recent.find((r) => r.firstSeq === b.baseSeq && r.baseOffset === -1);
      if (meta) meta.baseOffset = offset;
    }
    for (const [pid, e] of staged) {
      if (e.recent.length > 5) e.recent.splice(0, e.recent.length - 5);
      this.producers.set(pid, e);
    }
    return { errorCode: 0, baseOffset };
  }

  /** A new leader epoch starting at the log end (leadership moved). */
  bumpEpoch(): void {
    this.leaderEpoch++;
    this.epochs.push({ epoch: this.leaderEpoch, startOffset: this.endOffset });
  }

  /** OffsetForLeaderEpoch (KIP-101/320): the largest epoch <= `epoch` and the offset where it ended; -1s past the latest. */
  endOfEpoch(epoch: number): { leaderEpoch: number; endOffset: number } {
    if (epoch > this.leaderEpoch) return { leaderEpoch: -1, endOffset: -1 };
    let i = this.epochs.length - 1;
    while (i > 0 && this.epochs[i]!.epoch > epoch) i--;
    const next = this.epochs[i + 1];
    return { leaderEpoch: this.epochs[i]!.epoch, endOffset: next ? next.startOffset : this.endOffset };
  }

  /** Index of the first batch holding `offset` or after it. */
  private indexFor(offset: number): number {
    let lo = 0;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.batches[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Batches from `offset` on, at most `maxBytes` but always at least one batch (KIP-74). Empty: none. */
  read(offset: number, maxBytes: number): Buffer {
    const parts: Buffer[] = [];
    let size = 0;
    for (let i = this.indexFor(offset); i < this.batches.length; i++) {
      const b = this.batches[i]!.bytes;
      if (parts.length > 0 && size + b.length > maxBytes) break;
      parts.push(b);
      size += b.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The offset ListOffsets answers for `timestamp` (-1 latest, -2 earliest, -3 max timestamp, else the first at or after). */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } {
    if (timestamp === -1) return { offset: this.endOffset, timestamp: -1 };
    if (timestamp === -2) return { offset: this.logStartOffset, timestamp: -1 };
    if (timestamp === -3) {
      let best: StoredBatch | undefined;
      for (const b of this.batches) if (!best || b.maxTimestamp >= best.maxTimestamp) best = b;
      return best ? { offset: best.lastOffset, timestamp: best.maxTimestamp } : { offset: -1, timestamp: -1 };
    }
    const b = this.batches.find((x) => x.maxTimestamp >= timestamp);
    return b ? { offset: b.baseOffset, timestamp: b.maxTimestamp } : { offset: -1, timestamp: -1 };
  }
}
