import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Accumulator, Delivery, estimateRecordSize, type DeliveryReport, type ProducerRecord } from '../../src/client/accumulator.js';
import { addSequence, PartitionSequence, ProducerIdentity, stampProducerState } from '../../src/client/idempotence.js';
import { decodeRecordBatches, encodeRecordBatch, RECORD_BATCH_HEADER_SIZE } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';

const s = suite('accumulator and sequences');

function rec(i: number, value = 'x'.repeat(100)): ProducerRecord {
  return { topic: 't', key: `k${i}`, value };
}

s('records fill a batch up to batch.size, then a new one starts; append reports the filled batch', () => {
  const acc = new Accumulator({ batchBytes: 1000, maxBufferedBytes: 1e9 });
  const records = Array.from({ length: 20 }, (_, i) => rec(i));
  const owner = new Delivery(records, undefined);
  const size = estimateRecordSize(records[0]!);
  const perBatch = Math.floor((1000 - RECORD_BATCH_HEADER_SIZE) / size);
  const filled: number[] = [];
  records.forEach((r, i) => { if (acc.append(r, size, 0, owner, i, 0)) filled.push(i); });
  const q = acc.queue('t', 0);
  assert.is(q.batches[0]!.recordCount, perBatch);
  assert.ok(q.batches[0]!.closed);
  assert.ok(q.batches[0]!.sizeBytes <= 1000);
  assert.is(filled[0], perBatch, 'the record that did not fit closes the batch before it');
  assert.is(q.batches.reduce((n, b) => n + b.recordCount, 0), 20);
  assert.is(acc.bufferedRecords, 20);
  assert.is(acc.bufferedBytes, 20 * size);
  assert.ok(Array.from(owner.partitions).every((p) => p === 0));
});

s('a record bigger than batch.size gets a batch of its own', () => {
  const acc = new Accumulator({ batchBytes: 100, maxBufferedBytes: 1e9 });
  const big = rec(0, 'y'.repeat(500));
  const owner = new Delivery([big, rec(1)], undefined);
  acc.append(rec(1), estimateRecordSize(rec(1)), 0, owner, 1, 0);
  acc.append(big, estimateRecordSize(big), 0, owner, 0, 0);
  const q = acc.queue('t', 0);
  assert.is(q.batches.length, 2);
  assert.is(q.batches[1]!.recordCount, 1);
});

s('the byte bound pushes back until batches are released', async () => {
  const acc = new Accumulator({ batchBytes: 1000, maxBufferedBytes: 600 });
  const records = Array.from({ length: 6 }, (_, i) => rec(i));
  const owner = new Delivery(records, undefined);
  records.forEach((r, i) => acc.append(r, estimateRecordSize(r), i % 2, owner, i, 0));
  assert.ok(acc.full);
  let released = false;
  const waiting = acc.waitForSpace().then(() => { released = true; });
  await new Promise((r) => setTimeout(r, 5));
  assert.not.ok(released, 'still full');
  const b = acc.take(acc.queue('t', 0));
  acc.release(b);
  await waiting;
  assert.ok(released);
  assert.not.ok(acc.full);
  assert.is(acc.bufferedRecords, 3);
});

s('fits() tells the sticky partitioner whether the open batch has room', () => {
  const acc = new Accumulator({ batchBytes: 400, maxBufferedBytes: 1e9 });
  const r = rec(0);
  const size = estimateRecordSize(r);
  assert.not.ok(acc.fits('t', 0, size), 'no batch yet');
  const owner = new Delivery([r, r], undefined);
  acc.append(r, size, 0, owner, 0, 0);
  assert.ok(acc.fits('t', 0, size));
  acc.append(r, size, 0, owner, 1, 0);
  assert.ok(RECORD_BATCH_HEADER_SIZE + 3 * size > 400);
  assert.not.ok(acc.fits('t', 0, size), 'a third record would pass batch.size');
  acc.take(acc.queue('t', 0));
  assert.not.ok(acc.fits('t', 0, size), 'taken by the sender: a new batch would start');
});

s('the size estimate is at least what the encoder writes', () => {
  const cases: ProducerRecord[] = [
    { topic: 't', value: 'v' }, { topic: 't', key: 'é日本', value: Buffer.alloc(300) }, { topic: 't' },
    { topic: 't', key: Buffer.alloc(20000), value: 'x'.repeat(70000), headers: [{ key: 'h', value: 'v' }, { key: 'hh', value: null }] },
  ];
  for (const r of cases) {
    const actual = encodeRecordBatch([r], { baseTimestamp: 1_700_000_000_000 }).length - RECORD_BATCH_HEADER_SIZE;
    assert.ok(estimateRecordSize(r) >= actual, `${estimateRecordSize(r)} >= ${actual}`);
    assert.ok(estimateRecordSize(r) <= actual + 32, 'and not wildly more');
  }
});

s('a Delivery reports once, after its last record, with offsets and errors by index', () => {
  const reports: DeliveryReport[] = [];
  const d = new Delivery([rec(0), rec(1), rec(2)], (r) => reports.push(r));
  d.succeed(2, 12);
  d.fail(1, new Error('boom'));
  assert.is(reports.length, 0);
  d.succeed(0, 10);
  assert.is(reports.length, 1);
  assert.equal(Array.from(reports[0]!.offsets), [10, -1, 12]);
  assert.is(reports[0]!.errors![1]!.message, 'boom');
  assert.is(reports[0]!.errors![0], undefined);
  const empty: DeliveryReport[] = [];
  new Delivery([], (r) => empty.push(r));
  assert.is(empty.length, 1, 'an empty send reports at once');
});

s('sequences: contiguous per batch, wrapping at 2^31 as Kafka does', () => {
  const seq = new PartitionSequence();
  assert.is(seq.assign(5), 0);
  assert.is(seq.assign(3), 5);
  assert.is(seq.next, 8);
  assert.ok(seq.isNextExpected(0), 'nothing acknowledged: 0 is next');
  seq.acknowledge(0, 5);
  assert.is(seq.lastAcked, 4);
  assert.ok(seq.isNextExpected(5));
  assert.not.ok(seq.isNextExpected(8));
  seq.acknowledge(5, 3);
  assert.is(seq.lastAcked, 7);
  seq.acknowledge(0, 5); // a late duplicate acknowledgement does not move it back
  assert.is(seq.lastAcked, 7);
  assert.is(addSequence(2147483647, 1), 0);
  assert.is(addSequence(2147483640, 10), 2);
  const w = new PartitionSequence();
  w.next = 2147483645;
  assert.is(w.assign(5), 2147483645);
  assert.is(w.next, 2);
  w.acknowledge(2147483645, 5);
  assert.is(w.lastAcked, 1);
  assert.ok(w.isNextExpected(2));
  assert.ok(w.isAcknowledged(2147483647) && w.isAcknowledged(1), 'at or before the last acknowledged, across the wrap');
  assert.not.ok(w.isAcknowledged(2) || w.isAcknowledged(100));
  w.reset();
  assert.not.ok(w.isAcknowledged(0));
  assert.is(w.next, 0);
  assert.is(w.lastAcked, -1);
});

s('stampProducerState rewrites producer id, epoch and sequence and keeps the CRC valid', () => {
  const batch = encodeRecordBatch([{ value: 'a' }, { value: 'b' }], { producerId: 7, producerEpoch: 1, baseSequence: 40, compression: 3 });
  stampProducerState(batch, 123456789012, 5, 0);
  // Offsets by hand from the v2 header layout: producerId @43 (int64), epoch @51 (int16), baseSequence @53 (int32).
  assert.is(batch.readBigInt64BE(43), 123456789012n);
  assert.is(batch.readInt16BE(51), 5);
  assert.is(batch.readInt32BE(53), 0);
  assert.is(batch.readUInt32BE(17), crc32c(batch, 21));
  const [decoded] = decodeRecordBatches(batch);
  assert.is(decoded!.producerId, 123456789012);
  assert.is(decoded!.producerEpoch, 5);
  assert.is(decoded!.baseSequence, 0);
  assert.equal(decoded!.records().map((r) => r.value!.toString()), ['a', 'b']);
});

s('a released batch gives back exactly the bytes and records its appends added', () => {
  const acc = new Accumulator({ batchBytes: 500, maxBufferedBytes: 1e9 });
  const records = Array.from({ length: 9 }, (_, i) => rec(i, 'v'.repeat(10 * i)));
  const owner = new Delivery(records, undefined);
  records.forEach((r, i) => acc.append(r, estimateRecordSize(r), i % 3, owner, i, 0));
  const total = records.reduce((n, r) => n + estimateRecordSize(r), 0);
  assert.is(acc.bufferedBytes, total);
  for (let p = 0; p < 3; p++) {
    const q = acc.queue('t', p);
    while (q.batches.length > 0) acc.release(acc.take(q));
  }
  assert.equal([acc.bufferedBytes, acc.bufferedRecords], [0, 0], 'nothing left over, nothing counted twice');
});

s('records of sends with different leading headers never share a batch; the same headers object does', () => {
  const acc = new Accumulator({ batchBytes: 1e6, maxBufferedBytes: 1e9 });
  const traceA = [{ key: 'trace', value: 'a' }];
  const traceB = [{ key: 'trace', value: 'b' }];
  const sends = [traceA, traceA, traceB, undefined, traceA].map((headers, i) => {
    const r = rec(i);
    const owner = new Delivery([r], undefined, { topic: 't', headers });
    acc.append(r, estimateRecordSize(r), 0, owner, 0, 0);
    return owner;
  });
  const q = acc.queue('t', 0);
  assert.equal(q.batches.map((b) => [b.recordCount, b.leadingHeaders]), [[2, traceA], [1, traceB], [1, undefined], [1, traceA]]);
  assert.is(sends.length, 5);
});

s('a batch put back for a retry goes before every batch sent after it, and after those sent before it', () => {
  const acc = new Accumulator({ batchBytes: 200, maxBufferedBytes: 1e9 });
  const records = Array.from({ length: 4 }, (_, i) => rec(i));
  const owner = new Delivery(records, undefined);
  records.forEach((r, i) => acc.append(r, estimateRecordSize(r), 0, owner, i, 0)); // one record per batch
  const q = acc.queue('t', 0);
  assert.is(q.batches.length, 4);
  const sent = [acc.take(q), acc.take(q), acc.take(q)];
  sent.forEach((b, i) => { b.order = i; });
  const unsent = q.batches[0]!;
  q.requeue(sent[2]!);
  q.requeue(sent[0]!);
  q.requeue(sent[1]!);
  assert.equal(q.batches, [sent[0], sent[1], sent[2], unsent], 'original order, never sent batches last');
});

s('the epoch is bumped locally up to the int16 maximum, then a new producer id is needed', () => {
  const id = new ProducerIdentity();
  assert.not.ok(id.bumpEpoch(), 'no producer id yet: nothing to bump');
  id.producerId = 42;
  id.epoch = 0x7ffe;
  const generation = id.generation;
  assert.ok(id.bumpEpoch());
  assert.equal([id.epoch, id.generation], [0x7fff, generation + 1]);
  assert.not.ok(id.bumpEpoch(), 'past 32767 the epoch would not fit the batch header');
  assert.equal([id.epoch, id.generation], [0x7fff, generation + 1]);
});

s.run();
