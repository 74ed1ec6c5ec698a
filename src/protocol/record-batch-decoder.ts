/**
 * RecordBatch v2 decoder for a fetch response's `records` bytes: several batches back to back, the last one
 * possibly cut short by the fetch size (dropped silently, as Kafka's clients do). Each batch's header is read
 * and its CRC-32C verified at once; its records are decoded on first use (`records()`), decompressing if
 * needed, into plain objects whose key/value are zero-copy views. Every count and length is checked against
 * the bytes that remain before anything is allocated, so hostile bytes only ever raise a DecodeError.
 */
import { DecodeError } from '../errors.js';
import { decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression/index.js';
import { crc32c } from './crc32c.js';
import { Attributes, CRC_START, LOG_OVERHEAD, MAGIC_OFFSET, RECORD_BATCH_HEADER_SIZE, type KafkaRecord, type RecordHeader } from './record-batch.js';
import { Reader } from './reader.js';

export interface DecodeRecordBatchOptions {
  /** Verify each batch's CRC-32C (default true; brokers already verify on produce, not on fetch). */
  verifyCrc?: boolean;
  /** Cap on one batch's decompressed size (default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}). */
  maxDecompressedBytes?: number;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);
/** Smallest encoded record: length, attributes, timestamp delta, offset delta, key, value, header count. */
const MIN_RECORD_SIZE = 7;

/** One batch: header fields, and its records decoded on demand. */
export class RecordBatch {
  readonly baseOffset: number;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic = 2;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
  /** The whole batch (header included), a view into the fetch bytes. */
  readonly bytes: Buffer;
  private readonly maxDecompressed: number;
  private decoded: KafkaRecord[] | undefined;

  constructor(bytes: Buffer, r: Reader, maxDecompressed: number) {
    this.bytes = bytes;
    this.maxDecompressed = maxDecompressed;
    this.baseOffset = r.int64Number();
    this.batchLength = r.int32();
    this.partitionLeaderEpoch = r.int32();
    r.skip(1); // magic, checked by the caller
    this.crc = r.uint32();
    this.attributes = r.int16();
    this.lastOffsetDelta = r.int32();
    this.baseTimestamp = r.int64Number();
    this.maxTimestamp = r.int64Number();
    this.producerId = r.int64Number();
    this.producerEpoch = r.int16();
    this.baseSequence = r.int32();
    this.recordCount = r.int32();
    if (this.recordCount < 0) throw r.error(`negative record count ${this.recordCount}`);
    // Offsets in a batch are baseOffset + 0..lastOffsetDelta, one per record (compaction may leave fewer records,
    // never more): a negative delta, or more records than offsets, would move a consumer backwards or nowhere.
    if (this.lastOffsetDelta < 0) throw r.error(`negative lastOffsetDelta ${this.lastOffsetDelta}`);
    if (this.recordCount > this.lastOffsetDelta + 1) throw r.error(`${this.recordCount} records cannot have ${this.lastOffsetDelta + 1} offsets (lastOffsetDelta ${this.lastOffsetDelta})`);
  }

  /** Codec id of the records (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  get compression(): number {
    return this.attributes & Attributes.compressionMask;
  }
  /** 0 CreateTime, 1 LogAppendTime. */
  get timestampType(): number {
    return this.attributes & Attributes.timestampType ? 1 : 0;
  }
  get isTransactional(): boolean {
    return (this.attributes & Attributes.transactional) !== 0;
  }
  /** Control batches carry transaction markers (see readControlRecord), never user records. */
  get isControl(): boolean {
    return (this.attributes & Attributes.control) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & Attributes.deleteHorizon) !== 0;
  }
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  /** Offset after this batch: where the next fetch starts (compaction may leave gaps, so not count-based). */
  get nextOffset(): number {
    return this.lastOffset + 1;
  }

  /** The records, decoded (and decompressed) on first call, and kept. */
  records(): KafkaRecord[] {
    if (this.decoded === undefined) {
      const reader = new BatchRecordReader(this);
      const out = new Array<KafkaRecord>(this.recordCount);
      for (let i = 0; i < out.length; i++) out[i] = reader.next()!;
      this.decoded = out;
    }
    return this.decoded;
  }

  /**
   * A one-pass reader of the records, for walks that visit each record once (the consumer's). Unlike
   * {@link records}, it keeps no array: records already walked past can be collected while the batch (held by
   * its fetched run) is still alive, so a prefetched backlog does not hold thousands of decoded records.
   */
  recordReader(): BatchRecordReader {
    return new BatchRecordReader(this);
  }

  /** The record bytes, decompressed if needed, and where the first record starts in them. */
  recordBytes(): { data: Buffer; start: number } {
    if (this.compression === 0) return { data: this.bytes, start: RECORD_BATCH_HEADER_SIZE };
    return { data: decompress(this.compression, this.bytes.subarray(RECORD_BATCH_HEADER_SIZE), this.maxDecompressed), start: 0 };
  }
}

/** Decodes one batch's records in order, one per {@link next} call (see {@link RecordBatch.recordReader}). */
export class BatchRecordReader {
  private readonly r: Reader;
  private left: number;
  private readonly count: number;
  private readonly baseOffset: number;
  private readonly baseTimestamp: number;
  private readonly logAppendTime: number;

  constructor(batch: RecordBatch) {
    const { data, start } = batch.recordBytes();
    const count = batch.recordCount;
    // Checked before any record is read, so a hostile count cannot make the walk run past the bytes.
    if (count > (data.length - start) / MIN_RECORD_SIZE) throw new DecodeError(`${count} records cannot fit in ${data.length - start} bytes`);
    this.r = new Reader(data, start);
    this.left = count;
    this.count = count;
    if (count === 0 && data.length !== start) throw this.r.error(`${data.length - start} bytes of records in a batch whose header counts none`);
    this.baseOffset = batch.baseOffset;
    this.baseTimestamp = batch.baseTimestamp;
    this.logAppendTime = batch.timestampType === 1 ? batch.maxTimestamp : -1;
  }

  /**
   * The next record, or undefined after the last. Throws a DecodeError on a malformed record, and when the batch
   * does not hold exactly the records its header counts: bytes left after the last one (more records than the
   * count, as Java's corrupt-record check) or too few bytes for the count.
   */
  next(): KafkaRecord | undefined {
    if (this.left === 0) return undefined;
    this.left--;
    const record = readRecord(this.r, this.baseOffset, this.baseTimestamp, this.logAppendTime);
    if (this.left === 0 && this.r.offset !== this.r.end) {
      throw this.r.error(`${this.r.end - this.r.offset} bytes follow the last of the ${this.count} records the batch header counts`);
    }
    return record;
  }
}

/**
 * A Buffer made without `Buffer#subarray`: Node's subarray looks up the species constructor and re-checks its
 * arguments (~25 ns a view), while constructing this Uint8Array subclass is ~13 ns. It inherits every Buffer
 * method and reports `Buffer` as its constructor, so `Buffer.isBuffer`, `instanceof Buffer`, `equals`,
 * `toString(encoding)`, deep equality and species-created copies (`subarray`, `slice`, `map`) behave exactly
 * as with any other Buffer.
 */
class ViewBuffer extends Uint8Array {}
if (typeof Buffer === 'function') { // absent only where clients refuse to start (the package still loads)
  Object.setPrototypeOf(ViewBuffer.prototype, Buffer.prototype);
  Object.defineProperty(ViewBuffer.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });
}

/**
 * A decoded record. Key and value are made into views only when read (creating a typed-array view costs more
 * than decoding the rest of a small record), each read returning a fresh view of the same bytes.
 */
class DecodedRecord implements KafkaRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
  private readonly src: ArrayBuffer;
  /** Positions in `src` (not in the batch Buffer, which may start anywhere in it). */
  private readonly keyAt: number;
  private readonly keyLen: number;
  private readonly valueAt: number;
  private readonly valueLen: number;

  constructor(src: ArrayBuffer, offset: number, timestamp: number, keyAt: number, keyLen: number, valueAt: number, valueLen: number, headers: readonly RecordHeader[]) {
    this.src = src;
    this.offset = offset;
    this.timestamp = timestamp;
    this.keyAt = keyAt;
    this.keyLen = keyLen;
    this.valueAt = valueAt;
    this.valueLen = valueLen;
    this.headers = headers;
  }

  get key(): Buffer | null {
    return this.keyLen < 0 ? null : (new ViewBuffer(this.src, this.keyAt, this.keyLen) as unknown as Buffer);
  }

  get value(): Buffer | null {
    return this.valueLen < 0 ? null : (new ViewBuffer(this.src, this.valueAt, this.valueLen) as unknown as Buffer);
  }

  /** Plain-object form (key/value as views), e.g. for logging or deep equality in tests. */
  toJSON(): { offset: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: readonly RecordHeader[] } {
    return { offset: this.offset, timestamp: this.timestamp, key: this.key, value: this.value, headers: this.headers };
  }
}

/** One record; `logAppendTime` >= 0 overrides every record's timestamp (LogAppendTime batches). */
function readRecord(r: Reader, baseOffset: number, baseTimestamp: number, logAppendTime: number): KafkaRecord {
  const length = varint(r);
  if (length < MIN_RECORD_SIZE - 1 || length > r.end - r.offset) throw r.error(`invalid record length ${length}`);
  const end = r.offset + length;
  r.offset++; // record attributes: unused
  const tsDelta = varlong(r);
  const offset = baseOffset + varint(r);
  const keyLen = dataLength(r);
  const keyAt = r.offset;
  r.offset += keyLen < 0 ? 0 : keyLen;
  const valueLen = dataLength(r);
  const valueAt = r.offset;
  r.offset += valueLen < 0 ? 0 : valueLen;
  const n = varint(r);
  let headers = NO_HEADERS;
  if (n !== 0) headers = readHeaders(r, n, end);
  if (r.offset !== end) throw r.error(`record used ${r.offset - end + length} of its ${length} bytes`);
  const timestamp = logAppendTime >= 0 ? logAppendTime : baseTimestamp + tsDelta;
  const base = r.buf.byteOffset;
  return new DecodedRecord(r.buf.buffer as ArrayBuffer, offset, timestamp, base + keyAt, keyLen, base + valueAt, valueLen, headers);
}

/** A key or value length (-1 for null), checked against the bytes left. */
function dataLength(r: Reader): number {
  const len = varint(r);
  if (len < -1 || len > r.end - r.offset) throw r.error(`invalid length ${len}`);
  return len;
}

/**
 * Zig-zag varint with the one- and two-byte forms (nearly every record field: lengths below 8 KiB, small
 * deltas) read inline; longer or truncated ones go to the Reader, which checks them. Saves a call per field.
 */
function varint(r: Reader): number {
  const v = shortZigzag(r);
  return v === undefined ? r.varint() : v;
}

/** {@link varint} for a varlong (the timestamp delta): the short forms decode the same way. */
function varlong(r: Reader): number {
  const v = shortZigzag(r);
  return v === undefined ? r.varlongNumber() : v;
}

/** A one- or two-byte zigzag varint read inline; undefined when longer or near the end (the Reader checks those). */
function shortZigzag(r: Reader): number | undefined {
  const buf = r.buf;
  const off = r.offset;
  if (off + 1 >= r.end) return undefined;
  const b0 = buf[off]!;
  if (b0 < 0x80) {
    r.offset = off + 1;
    return (b0 >>> 1) ^ -(b0 & 1);
  }
  const b1 = buf[off + 1]!;
  if (b1 >= 0x80) return undefined;
  const v = (b0 & 0x7f) | (b1 << 7);
  r.offset = off + 2;
  return (v >>> 1) ^ -(v & 1);
}

function readHeaders(r: Reader, n: number, end: number): RecordHeader[] {
  if (n < 0 || n > (end - r.offset) >> 1) throw r.error(`invalid header count ${n}`);
  const list = new Array<RecordHeader>(n);
  for (let h = 0; h < n; h++) {
    const keyLen = r.varint();
    if (keyLen < 0) throw r.error('null header key');
    list[h] = { key: r.utf8(keyLen), value: readData(r) };
  }
  return list;
}

function readData(r: Reader): Buffer | null {
  const len = r.varint();
  if (len === -1) return null;
  if (len < -1) throw r.error(`invalid length ${len}`);
  return r.view(len);
}

/**
 * Splits a fetch's `records` bytes into batches, verifying each CRC. A trailing partial batch is dropped;
 * magic 0/1 (and unknown magics) and corrupt batches throw a DecodeError.
 */
export function decodeRecordBatches(data: Buffer, options: DecodeRecordBatchOptions = {}): RecordBatch[] {
  const verify = options.verifyCrc ?? true;
  const maxDecompressed = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const batches: RecordBatch[] = [];
  let pos = 0;
  while (data.length - pos >= LOG_OVERHEAD) {
    const length = data.readInt32BE(pos + 8);
    if (data.length - pos > MAGIC_OFFSET) {
      const magic = data[pos + MAGIC_OFFSET]!;
      if (magic === 0 || magic === 1) throw new DecodeError(`message format v${magic} is not supported; Kafka 4 never sends it`, pos + MAGIC_OFFSET);
      if (magic !== 2) throw new DecodeError(`unknown record batch magic ${magic}`, pos + MAGIC_OFFSET);
    }
    if (length < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD) throw new DecodeError(`record batch length ${length} below the header size`, pos + 8);
    const end = pos + LOG_OVERHEAD + length;
    if (end > data.length) break; // cut by the fetch size: the next fetch starts at this batch again
    if (verify) {
      const expected = data.readUInt32BE(pos + 17);
      const actual = crc32c(data, pos + CRC_START, end);
      if (expected !== actual) throw new DecodeError(`record batch CRC mismatch: header says ${expected.toString(16)}, bytes give ${actual.toString(16)}`, pos);
    }
    const bytes = data.subarray(pos, end);
    batches.push(new RecordBatch(bytes, new Reader(bytes), maxDecompressed));
    pos = end;
  }
  return batches;
}
