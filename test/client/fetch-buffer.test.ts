import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { FetchBuffer, fetchedRecords, type FetchedBatch } from '../../src/client/fetch-buffer.js';
import { visibleBatches } from '../../src/client/fetch-isolation.js';
import { checkEpochEnd } from '../../src/client/fetch-positions.js';
import { ClosedError } from '../../src/errors.js';
import { decodeRecordBatches, encodeControlBatch, encodeRecordBatch } from '../../src/protocol/record-batch.js';

const s = suite('fetch-buffer, isolation and epoch checks');

function run(partition: number, from: number, to: number, bytes: number): FetchedBatch {
  return { topic: 't', partition, batches: [], fromOffset: from, nextOffset: to, highWatermark: to, lastStableOffset: to, logStartOffset: 0, bytes };
}

s('bytes count until consumed, not until delivered; consumed releases whole runs only', () => {
  const b = new FetchBuffer();
  let released = 0;
  b.onRelease = () => released++;
  const p = FetchBuffer.partition('t', 0);
  b.push(p, run(0, 0, 10, 100));
  b.push(p, run(0, 10, 20, 50));
  assert.is(b.bytes, 150);
  assert.is(b.tryNext()!.nextOffset, 10);
  assert.is(b.bytes, 150, 'delivered but not consumed still counts');
  b.consumed(p, 5);
  assert.is(b.bytes, 150, 'half a run is not released');
  b.consumed(p, 10);
  assert.is(b.bytes, 50);
  assert.is(p.bytes, 50);
  assert.is(released, 1);
  b.consumed(p, 1000);
  assert.is(b.bytes, 50, 'undelivered runs are not released by consumed');
});

s('a fetch response counts whole against the total until its last run is consumed; partitions count their own runs', () => {
  const b = new FetchBuffer();
  const p0 = FetchBuffer.partition('t', 0);
  const p1 = FetchBuffer.partition('t', 1);
  const frame = { bytes: 1000, held: 0 };
  const other = { bytes: 300, held: 0 };
  b.push(p0, { ...run(0, 0, 10, 400), frame });
  b.push(p1, { ...run(1, 0, 10, 500), frame });
  b.push(p1, { ...run(1, 10, 20, 250), frame: other });
  assert.is(b.bytes, 1300, 'two responses, whole');
  assert.equal([p0.bytes, p1.bytes], [400, 750]);
  b.tryNext();
  b.consumed(p0, 10);
  assert.is(p0.bytes, 0);
  assert.is(b.bytes, 1300, 'partition 1 still holds a run of the first response: all of it stays in memory');
  b.tryNext();
  b.consumed(p1, 10);
  assert.is(b.bytes, 300, 'the first response is gone once its last run is');
  b.clear(p1);
  assert.equal([b.bytes, p1.bytes], [0, 0]);
});

s('round-robin across partitions, offset order within one; paused partitions are skipped and kept', () => {
  const b = new FetchBuffer();
  const p0 = FetchBuffer.partition('t', 0);
  const p1 = FetchBuffer.partition('t', 1);
  b.push(p0, run(0, 0, 1, 1));
  b.push(p0, run(0, 1, 2, 1));
  b.push(p1, run(1, 0, 1, 1));
  b.push(p1, run(1, 1, 2, 1));
  const order = [b.tryNext(), b.tryNext(), b.tryNext(), b.tryNext()].map((f) => `${f!.partition}@${f!.fromOffset}`);
  assert.equal(order, ['0@0', '1@0', '0@1', '1@1']);
  assert.is(b.tryNext(), undefined);
  b.push(p0, run(0, 2, 3, 1));
  b.pause(p0);
  assert.is(b.tryNext(), undefined);
  b.resume(p0);
  assert.is(b.tryNext()!.fromOffset, 2);
});

s('next() waits for data, honours abort, and rejects after close; clear() drops a partition\'s bytes', async () => {
  const b = new FetchBuffer();
  const p = FetchBuffer.partition('t', 0);
  const waiting = b.next();
  b.push(p, run(0, 0, 1, 7));
  assert.is((await waiting).bytes, 7);
  const ac = new AbortController();
  const aborted = b.next(ac.signal);
  ac.abort(new Error('stop'));
  await aborted.then(() => assert.unreachable('should reject'), (e: Error) => assert.is(e.message, 'stop'));
  b.push(p, run(0, 1, 2, 3));
  b.clear(p);
  assert.is(b.bytes, 0);
  assert.is(b.tryNext(), undefined, 'cleared data is not delivered');
  const pending = b.next();
  b.close();
  await pending.then(() => assert.unreachable('should reject'), (e: unknown) => assert.instance(e, ClosedError));
});

s('a waiting reader is not handed data of a paused partition; resume hands it over', async () => {
  const b = new FetchBuffer();
  const p = FetchBuffer.partition('t', 0);
  b.pause(p);
  const waiting = b.next();
  b.push(p, run(0, 0, 1, 1));
  let got = false;
  void waiting.then(() => { got = true; });
  await new Promise((r) => setTimeout(r, 5));
  assert.not.ok(got);
  b.resume(p);
  assert.is((await waiting).fromOffset, 0);
});

s('fetchedRecords skips records before fromOffset inside the first batch', () => {
  const bytes = encodeRecordBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { baseOffset: 100 });
  const batches = decodeRecordBatches(bytes);
  const vals = [...fetchedRecords({ ...run(0, 101, 103, bytes.length), batches })].map((r) => `${r.offset}:${r.value}`);
  assert.equal(vals, ['101:b', '102:c']);
});

s('a cursor walk keeps no decoded batch behind it (records walked past can be collected)', () => {
  const a = encodeRecordBatch([{ value: 'a' }, { value: 'b' }], { baseOffset: 0 });
  const b = encodeRecordBatch([{ value: 'c' }], { baseOffset: 2 });
  const batches = decodeRecordBatches(Buffer.concat([a, b]));
  const walked = [...fetchedRecords({ ...run(0, 0, 3, a.length + b.length), batches })];
  assert.equal(walked.map((r) => `${r.offset}:${r.value}`), ['0:a', '1:b', '2:c']);
  // Had the walk memoised each batch's records, records() would hand back the very objects the walk returned.
  assert.is.not(batches[0]!.records()[0], walked[0]);
  assert.is.not(batches[1]!.records()[0], walked[2]);
});

s('read_committed drops an aborted transaction up to its ABORT marker and keeps committed ones; markers never show', () => {
  const enc = (base: number, pid: number, txn: boolean) => encodeRecordBatch([{ value: `v${base}` }], { baseOffset: base, producerId: pid, producerEpoch: 0, isTransactional: txn });
  const data = Buffer.concat([
    enc(0, 7, true),                                                                         // aborted (pid 7 from 0)
    enc(1, 8, true),                                                                         // committed later
    encodeControlBatch({ commit: false, coordinatorEpoch: 1 }, { baseOffset: 2, producerId: 7, producerEpoch: 0 }),
    encodeControlBatch({ commit: true, coordinatorEpoch: 1 }, { baseOffset: 3, producerId: 8, producerEpoch: 0 }),
    enc(4, 7, true),                                                                         // pid 7's next transaction
    enc(5, 9, false),                                                                        // not transactional
  ]);
  const batches = decodeRecordBatches(data);
  const committed = visibleBatches(batches, 'read_committed', [{ producerId: 7n, firstOffset: 0n }]).map((b) => b.baseOffset);
  assert.equal(committed, [1, 4, 5]);
  const all = visibleBatches(batches, 'read_uncommitted', [{ producerId: 7n, firstOffset: 0n }]).map((b) => b.baseOffset);
  assert.equal(all, [0, 1, 4, 5]);
});

s('KIP-320 epoch check: below our position is truncation, undefined is unknown, otherwise fine', () => {
  assert.equal(checkEpochEnd(100, 5, 80), { kind: 'truncated', offset: 80, epoch: 5 });
  assert.equal(checkEpochEnd(100, 5, 100), { kind: 'ok' });
  assert.equal(checkEpochEnd(100, 5, 150), { kind: 'ok' });
  assert.equal(checkEpochEnd(100, -1, -1), { kind: 'unknown' });
});

s.run();
