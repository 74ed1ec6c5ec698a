/**
 * RecordBatch v2 (magic 2, KIP-98): the only message format Kafka 4 speaks (KIP-724 removed v0/v1).
 * This file holds the shared shapes and constants, and control records (transaction markers); the codec is in
 * record-batch-encoder.ts and record-batch-decoder.ts.
 *
 * Layout (big-endian, 61-byte header):
 * baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 (CRC-32C of
 * everything after it) | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 * producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records (maybe compressed).
 *
 * Offsets, timestamps and producer ids are numbers: they are int64 on the wire but stay far below 2^53 in
 * practice, and a value beyond it is rejected with a DecodeError rather than rounded.
 */
export { encodeRecordBatch, encodeControlBatch, type RecordBatchOptions, type BatchBuffers, type RecordInput, type RecordHeaderInput } from './record-batch-encoder.js';
export { decodeRecordBatches, RecordBatch, BatchRecordReader, type DecodeRecordBatchOptions } from './record-batch-decoder.js';

/** Size of the fixed batch header. */
export const RECORD_BATCH_HEADER_SIZE = 61;
/** Bytes before `batchLength` counts: baseOffset and batchLength themselves. */
export const LOG_OVERHEAD = 12;
/** Where the CRC-32C coverage starts (the attributes field). */
export const CRC_START = 21;
export const MAGIC_OFFSET = 16;

/** Attribute bits (KIP-98, KIP-32, KIP-724 delete horizon). */
export const Attributes = {
  compressionMask: 0x07,
  timestampType: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

/** Timestamp types: 0 CreateTime (set by the producer), 1 LogAppendTime (set by the broker). */
export const TimestampType = { createTime: 0, logAppendTime: 1 } as const;

/** One header of a record, as decoded: the value is a view into the batch bytes. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/**
 * A decoded record. `key`, `value` and header values are zero-copy views into the fetch response (or into the
 * decompressed batch): copy them to keep them beyond the response's life.
 */
export interface KafkaRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly RecordHeader[];
}

/** Control record types (KIP-98): the key's `type` field. */
export const ControlType = { abort: 0, commit: 1 } as const;

/** A transaction marker decoded from a control batch's record. */
export interface ControlRecord {
  /** 'abort' or 'commit' for transaction markers; 'unknown' for other control types (e.g. KRaft ones). */
  type: 'abort' | 'commit' | 'unknown';
  /** Raw control type from the key. */
  typeId: number;
  /** The transaction coordinator's epoch, from the marker's value (-1 if the value is absent). */
  coordinatorEpoch: number;
}

/**
 * Reads a control record (key: int16 version, int16 type; value: int16 version, int32 coordinator epoch).
 * Returns null when the key is not a control key, so callers can skip odd records instead of failing.
 */
export function readControlRecord(record: KafkaRecord): ControlRecord | null {
  const key = record.key;
  if (key === null || key.length < 4) return null;
  const typeId = key.readInt16BE(2);
  const value = record.value;
  const coordinatorEpoch = value !== null && value.length >= 6 ? value.readInt32BE(2) : -1;
  return { type: typeId === ControlType.abort ? 'abort' : typeId === ControlType.commit ? 'commit' : 'unknown', typeId, coordinatorEpoch };
}
