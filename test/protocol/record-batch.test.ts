import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { DecodeError, InvalidArgumentError } from '../../src/errors.js';
import { Compression } from '../../src/protocol/compression/index.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import {
  decodeRecordBatches, encodeControlBatch, encodeRecordBatch, readControlRecord, type RecordBatch, type RecordInput,
} from '../../src/protocol/record-batch.js';
import { JAVA_BATCHES, type JavaBatchCase } from './fixtures/java-record-batches.js';

const s = suite('record-batch');
const CODECS = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];
type Json = Record<string, unknown>;

/** Our view of batches in the shape integration/java/BatchInterop.java prints for Kafka's reader. */
function describe(batches: RecordBatch[]): Json[] {
  const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
  return batches.map((b) => ({
    baseOffset: b.baseOffset, lastOffset: b.lastOffset, magic: b.magic, compression: b.compression, timestampType: b.timestampType,
    transactional: b.isTransactional, control: b.isControl, producerId: b.producerId, producerEpoch: b.producerEpoch,
    baseSequence: b.baseSequence, partitionLeaderEpoch: b.partitionLeaderEpoch, maxTimestamp: b.maxTimestamp, checksum: b.crc,
    sizeInBytes: b.bytes.length,
    records: b.records().map((r) => {
      const out: Json = { offset: r.offset, timestamp: r.timestamp, key: b64(r.key), value: b64(r.value), headers: r.headers.map((h) => [h.key, b64(h.value)]) };
      if (b.isControl) out.control = readControlRecord(r)!.type.toUpperCase();
      return out;
    }),
  }));
}

function javaCase(name: string): JavaBatchCase {
  return JAVA_BATCHES.find((c) => c.case === name)!;
}

/** The records of a Java case, as inputs for our encoder. */
function inputsOf(c: JavaBatchCase): RecordInput[] {
  const batch = c.batches[0] as { baseOffset: number; records: { offset: number; timestamp: number; key: string | null; value: string | null; headers: [string, string | null][] }[] };
  const bytes = (v: string | null): Buffer | null => (v === null ? null : Buffer.from(v, 'base64'));
  return batch.records.map((r) => ({
    key: bytes(r.key), value: bytes(r.value), timestamp: r.timestamp, offsetDelta: r.offset - batch.baseOffset,
    headers: r.headers.map(([key, value]) => ({ key, value: bytes(value) })),
  }));
}

/** Recomputes a batch's CRC after a mutation, so the decoder parses on instead of stopping at the CRC. */
function fixCrc(batch: Uint8Array): void {
  new DataView(batch.buffer, batch.byteOffset, batch.length).setUint32(17, crc32c(batch, 21, batch.length));
}

s('batches written by Kafka\'s Java client (every codec, headers, nulls, producer ids, transactions, markers) decode as Kafka reads them', () => {
  assert.ok(JAVA_BATCHES.length >= 8);
  for (const c of JAVA_BATCHES) assert.equal(describe(decodeRecordBatches(Buffer.from(c.base64, 'base64'))), c.batches, c.case);
});

s('uncompressed batches are byte-identical to the Java client\'s', () => {
  const mixed = javaCase('none:d:6:40:mixed');
  const ours = encodeRecordBatch(inputsOf(mixed), {
    baseOffset: 1000, producerId: 4242, producerEpoch: 7, baseSequence: 100, partitionLeaderEpoch: 9,
  });
  assert.is(ours.toString('base64'), mixed.base64);
  const plain = javaCase('none:d:2:10:plain');
  assert.is(encodeRecordBatch(inputsOf(plain), { baseOffset: 1000 }).toString('base64'), plain.base64);
  const control = Buffer.from(javaCase('none:d:0:0:control').base64, 'base64');
  const commit = encodeControlBatch({ commit: true, coordinatorEpoch: 5, timestamp: 1_700_000_000_000 }, { baseOffset: 50, partitionLeaderEpoch: 3, producerId: 4242, producerEpoch: 7 });
  const abort = encodeControlBatch({ commit: false, coordinatorEpoch: 6, timestamp: 1_700_000_000_001 }, { baseOffset: 51, partitionLeaderEpoch: 3, producerId: 4242, producerEpoch: 7 });
  assert.ok(Buffer.concat([commit, abort]).equals(control));
});

s('leading headers give the bytes of records carrying them before their own; a pool\'s memory is used and given back', () => {
  const lead = [{ key: 'request-id', value: Buffer.from('abc') }, { key: 'n', value: null }];
  const records = [{ value: 'a' }, { key: 'k', value: Buffer.alloc(20_000, 1), headers: [{ key: 'own', value: 'x' }] }, { value: null, headers: [] }];
  const merged = records.map((r) => ({ ...r, headers: [...lead, ...(r.headers ?? [])] }));
  const taken: Buffer[] = [];
  const given: Buffer[] = [];
  const buffers = { take: (n: number) => { const b = Buffer.alloc(n + 100); taken.push(b); return b; }, give: (b: Buffer) => { given.push(b); } };
  for (const compression of [Compression.none, Compression.lz4]) {
    const options = { baseTimestamp: 1_700_000_000_000, compression };
    const viaLead = encodeRecordBatch(records, { ...options, leadingHeaders: lead, buffers });
    assert.ok(viaLead.equals(encodeRecordBatch(merged, options)), `codec ${compression}: same bytes`);
    assert.is(viaLead.buffer, taken[taken.length - 1]!.buffer, 'written into the pool\'s buffer');
  }
  assert.is(taken.length, 3, 'one for the plain batch; the records and the batch for the compressed one');
  assert.equal(given, [taken[1]], 'the compressed batch\'s scratch given back');
});

s('control batches are recognised and their markers read', () => {
  const [commit, abort] = decodeRecordBatches(Buffer.from(javaCase('none:d:0:0:control').base64, 'base64'));
  assert.ok(commit!.isControl && commit!.isTransactional);
  assert.equal(readControlRecord(commit!.records()[0]!), { type: 'commit', typeId: 1, coordinatorEpoch: 5 });
  assert.equal(readControlRecord(abort!.records()[0]!), { type: 'abort', typeId: 0, coordinatorEpoch: 6 });
});

s('every codec round-trips records and batch attributes', () => {
  const records: RecordInput[] = [];
  for (let i = 0; i < 500; i++) {
    records.push({
      key: i % 4 === 0 ? null : `key-${i}`, value: i % 9 === 0 ? null : Buffer.alloc(100 + (i % 50), i), timestamp: 1_700_000_000_000 + i * 2,
      headers: i % 2 ? [{ key: 'h', value: `v${i}` }, { key: 'nil', value: null }] : undefined,
    });
  }
  for (const codec of CODECS) {
    const bytes = encodeRecordBatch(records, {
      compression: codec, baseOffset: 2 ** 40, producerId: 123456789, producerEpoch: 3, baseSequence: 2 ** 30,
      isTransactional: true, partitionLeaderEpoch: 17,
    });
    const [b, ...rest] = decodeRecordBatches(bytes);
    assert.is(rest.length, 0);
    assert.is(b!.compression, codec);
    assert.equal([b!.baseOffset, b!.lastOffset, b!.producerId, b!.producerEpoch, b!.baseSequence, b!.partitionLeaderEpoch, b!.isTransactional, b!.isControl],
      [2 ** 40, 2 ** 40 + 499, 123456789, 3, 2 ** 30, 17, true, false]);
    assert.is(b!.maxTimestamp, 1_700_000_000_998);
    const got = b!.records();
    assert.is(got.length, 500);
    got.forEach((r, i) => {
      const want = records[i]!;
      assert.is(r.offset, 2 ** 40 + i);
      assert.is(r.timestamp, want.timestamp);
      assert.is(r.key === null ? null : r.key.toString(), want.key ?? null);
      assert.ok(want.value === null ? r.value === null : r.value!.equals(want.value as Buffer));
      assert.equal(r.headers.map((h) => [h.key, h.value?.toString() ?? null]), (want.headers ?? []).map((h) => [h.key, h.value as string | null]));
    });
  }
});

s('an uncompressed batch is written into one exactly sized buffer, whatever the record count', () => {
  // The last byte of a batch without headers is a 1-byte varint; reserving a varint's 5-byte maximum there used to
  // double the buffer and copy the whole batch. Buffers of 4 KiB and more are never from Node's shared pool.
  for (const count of [1, 3000, 40, 1024, 1025]) {
    const records: RecordInput[] = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(5000 + (i % 7), i), timestamp: 1_000 + i }));
    const bytes = encodeRecordBatch(records);
    assert.is(bytes.buffer.byteLength, bytes.length, `${count} records`);
    const got = decodeRecordBatches(bytes)[0]!.records();
    assert.is(got.length, count);
    got.forEach((r, i) => {
      assert.is(r.key!.toString(), `k${i}`);
      assert.ok(r.value!.equals(records[i]!.value as Buffer));
      assert.is(r.timestamp, 1_000 + i);
    });
  }
});

s('keys and values are Buffers over the fetch bytes, wherever those sit in their ArrayBuffer', () => {
  const batch = encodeRecordBatch([{ key: 'k1', value: 'hello' }, { key: null, value: 'world!' }], { baseTimestamp: 1 });
  const backing = Buffer.alloc(batch.length + 13, 0xee);
  batch.copy(backing, 7); // the fetch bytes start at an odd position of a larger allocation
  const [r0, r1] = decodeRecordBatches(backing.subarray(7, 7 + batch.length))[0]!.records();
  const value = r0!.value!;
  assert.ok(Buffer.isBuffer(value));
  assert.ok(value instanceof Buffer);
  assert.is(value.constructor, Buffer);
  assert.is(value.toString('utf8'), 'hello');
  assert.is(r0!.key!.toString('latin1'), 'k1');
  assert.equal(value, Buffer.from('hello'));
  assert.ok(value.equals(Buffer.from('hello')));
  assert.is(value.buffer, backing.buffer, 'a view, not a copy');
  assert.ok(Buffer.isBuffer(value.subarray(1, 3)));
  assert.is(value.subarray(1, 3).toString(), 'el');
  assert.is(value.readUInt16BE(0), 0x6865);
  assert.is(r1!.key, null);
  assert.is(r1!.value!.toString(), 'world!');
  assert.equal(JSON.parse(JSON.stringify(r0!.value)), { type: 'Buffer', data: [...Buffer.from('hello')] });
});

s('LogAppendTime batches give every record the batch\'s max timestamp', () => {
  const bytes = encodeRecordBatch([{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: 9 }], { timestampType: 1 });
  const [b] = decodeRecordBatches(bytes);
  assert.is(b!.timestampType, 1);
  assert.equal(b!.records().map((r) => r.timestamp), [9, 9]);
});

s('a CRC mismatch is a DecodeError (unless verification is off)', () => {
  const bytes = encodeRecordBatch([{ value: 'hello' }]);
  bytes[bytes.length - 3]! ^= 0x01;
  assert.throws(() => decodeRecordBatches(bytes), (e: unknown) => e instanceof DecodeError && /CRC mismatch/.test((e as Error).message));
  assert.is(decodeRecordBatches(bytes, { verifyCrc: false }).length, 1);
});

s('a trailing partial batch is dropped silently, at every cut point', () => {
  const first = Buffer.from(javaCase('zstd:d:6:40:mixed').base64, 'base64');
  const second = encodeRecordBatch([{ value: 'x'.repeat(50) }], { baseOffset: 1006 });
  const both = Buffer.concat([first, second]);
  assert.is(decodeRecordBatches(both).length, 2);
  for (let cut = first.length; cut < both.length; cut++) {
    const got = decodeRecordBatches(both.subarray(0, cut));
    assert.is(got.length, 1, `cut at ${cut}`);
    assert.is(got[0]!.records().length, 6);
  }
  for (let cut = 0; cut < first.length; cut += 5) assert.is(decodeRecordBatches(first.subarray(0, cut)).length, 0);
});

s('message format v0/v1 is refused with a clear DecodeError', () => {
  for (const magic of [0, 1]) {
    const bytes = encodeRecordBatch([{ value: 'x' }]);
    bytes[16] = magic;
    assert.throws(() => decodeRecordBatches(bytes), (e: unknown) => e instanceof DecodeError && (e as Error).message.includes(`message format v${magic} is not supported; Kafka 4 never sends it`));
  }
  const bytes = encodeRecordBatch([{ value: 'x' }]);
  bytes[16] = 3;
  assert.throws(() => decodeRecordBatches(bytes), (e: unknown) => e instanceof DecodeError && /unknown record batch magic 3/.test((e as Error).message));
});

s('lying counts and lengths are DecodeErrors, found before any allocation', () => {
  const good = encodeRecordBatch([{ key: 'k', value: 'v', headers: [{ key: 'a', value: 'b' }] }]);
  const count = Buffer.from(good);
  count.writeInt32BE(0x7fffffff, 57);
  count.writeInt32BE(0x7ffffffe, 23); // lastOffsetDelta to match, so the count meets the bytes check
  fixCrc(count);
  assert.throws(() => decodeRecordBatches(count)[0]!.records(), (e: unknown) => e instanceof DecodeError && /cannot fit/.test((e as Error).message));
  const length = Buffer.from(good);
  length.writeInt32BE(20, 8);
  assert.throws(() => decodeRecordBatches(length), (e: unknown) => e instanceof DecodeError && /below the header size/.test((e as Error).message));
  const headerCount = Buffer.from(good);
  headerCount[good.length - 5] = 0x7e; // zig-zag 63 headers where 4 bytes are left
  fixCrc(headerCount);
  assert.throws(() => decodeRecordBatches(headerCount)[0]!.records(), (e: unknown) => e instanceof DecodeError && /invalid header count 63/.test((e as Error).message));
  assert.throws(() => encodeRecordBatch([]), (e: unknown) => e instanceof InvalidArgumentError);
});

s('the one-pass record reader yields what records() yields, for every codec, and leaves the batch undecoded', () => {
  const inputs: RecordInput[] = [{ key: 'k', value: 'v1', headers: [{ key: 'h', value: 'x' }] }, { value: null }, { key: null, value: 'v3' }];
  for (const codec of CODECS) {
    const read = (b: RecordBatch): unknown[] => {
      const out: unknown[] = [];
      const reader = b.recordReader();
      for (let r = reader.next(); r !== undefined; r = reader.next()) out.push(r);
      assert.is(reader.next(), undefined);
      return out;
    };
    const [batch] = decodeRecordBatches(encodeRecordBatch(inputs, { compression: codec, baseOffset: 40 }));
    const walked = read(batch!);
    const kept = batch!.records();
    assert.equal(walked.map((r) => JSON.stringify(r)), kept.map((r) => JSON.stringify(r)), `codec ${codec}`);
    // records() decoded afresh: the reader's walk had kept nothing on the batch.
    assert.is.not(walked[0], kept[0]);
    assert.is(batch!.records(), kept);
  }
  const count = Buffer.from(encodeRecordBatch([{ value: 'v' }]));
  count.writeInt32BE(1000, 57);
  count.writeInt32BE(999, 23);
  fixCrc(count);
  assert.throws(() => decodeRecordBatches(count)[0]!.recordReader(), (e: unknown) => e instanceof DecodeError && /cannot fit/.test((e as Error).message));
});

s('fixed-seed fuzz: mutated batches (CRC fixed so parsing goes deep) only ever raise DecodeError', () => {
  let x = 99;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  const bases: Buffer[] = JAVA_BATCHES.map((c) => Buffer.from(c.base64, 'base64'));
  for (const codec of CODECS) bases.push(encodeRecordBatch([{ key: 'k', value: 'value', headers: [{ key: 'h', value: null }] }, { value: null }], { compression: codec }));
  let rejected = 0;
  for (let iter = 0; iter < 4000; iter++) {
    const base = bases[iter % bases.length]!;
    const bytes = Buffer.from(base);
    for (let k = 1 + (next() % 3); k > 0; k--) bytes[12 + (next() % (bytes.length - 12))] = next() & 0xff;
    if (bytes.length > 61 && next() % 4 !== 0) fixCrc(bytes.subarray(0, Math.min(bytes.length, 12 + Math.max(0, bytes.readInt32BE(8)))));
    try {
      for (const b of decodeRecordBatches(bytes, { maxDecompressedBytes: 1 << 20 })) {
        const reader = b.recordReader();
        for (let r = reader.next(); r !== undefined; r = reader.next()) void r.key;
        for (const r of b.records()) void r.value;
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw new Error(`iteration ${iter}: ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 500, `only ${rejected} rejected`);
});

s('a batch holds exactly the records its header counts: more or fewer is a DecodeError (Java: corrupt record), for every codec', () => {
  const inputs: RecordInput[] = [{ value: 'a' }, { value: 'b' }, { value: 'c' }];
  for (const codec of CODECS) {
    const good = encodeRecordBatch(inputs, { compression: codec, baseOffset: 7 });
    assert.is(decodeRecordBatches(good)[0]!.records().length, 3, `codec ${codec}`);
    // Header says 2: a third record follows the last counted one.
    const fewer = Buffer.from(good);
    fewer.writeInt32BE(2, 57);
    fixCrc(fewer);
    assert.throws(() => decodeRecordBatches(fewer)[0]!.records(), (e: unknown) => e instanceof DecodeError && /follow the last of the 2 records/.test((e as Error).message), `codec ${codec}: extra record`);
    const reader = decodeRecordBatches(fewer)[0]!.recordReader();
    reader.next();
    assert.throws(() => reader.next(), (e: unknown) => e instanceof DecodeError, `codec ${codec}: the one-pass reader too`);
    // Header says 4 (lastOffsetDelta 3 to match): the fourth is missing.
    const more = Buffer.from(good);
    more.writeInt32BE(4, 57);
    more.writeInt32BE(3, 23);
    fixCrc(more);
    assert.throws(() => decodeRecordBatches(more)[0]!.records(), (e: unknown) => e instanceof DecodeError, `codec ${codec}: missing record`);
  }
  // Header counts none but carries records.
  const none = Buffer.from(encodeRecordBatch([{ value: 'x' }]));
  none.writeInt32BE(0, 57);
  fixCrc(none);
  assert.throws(() => decodeRecordBatches(none)[0]!.records(), (e: unknown) => e instanceof DecodeError && /counts none/.test((e as Error).message));
});

s('offsets a batch header cannot have are DecodeErrors at once: a negative lastOffsetDelta, more records than offsets', () => {
  const good = encodeRecordBatch([{ value: 'a' }, { value: 'b' }], { baseOffset: 10 });
  const negative = Buffer.from(good);
  negative.writeInt32BE(-1, 23);
  fixCrc(negative);
  assert.throws(() => decodeRecordBatches(negative), (e: unknown) => e instanceof DecodeError && /negative lastOffsetDelta -1/.test((e as Error).message));
  const crowded = Buffer.from(good);
  crowded.writeInt32BE(0, 23); // two records, one offset
  fixCrc(crowded);
  assert.throws(() => decodeRecordBatches(crowded), (e: unknown) => e instanceof DecodeError && /2 records cannot have 1 offsets/.test((e as Error).message));
  // Compaction leaves fewer records than offsets: fine.
  const compacted = Buffer.from(good);
  compacted.writeInt32BE(5, 23);
  fixCrc(compacted);
  assert.is(decodeRecordBatches(compacted)[0]!.nextOffset, 16);
});

s.run();
