/**
 * The sender against the shared fake cluster (test/fake-cluster: one loopback broker leading every partition,
 * Kafka's idempotent sequence rules: duplicate of a recent batch → its first offset, gap →
 * OUT_OF_ORDER_SEQUENCE_NUMBER, new epoch → sequence 0), through our real Cluster and Broker, with faults
 * injected per partition or per request. The real broker's behaviour is covered by integration/produce*.test.ts.
 */
import * as assert from 'uvu/assert';
import { suite, eventually } from '../kit.js';
import { Cluster } from '../../src/client/cluster.js';
import { DeliveryTimeoutError, ProducerEngine, type ProducerEngineOptions } from '../../src/client/producer-engine.js';
import type { DeliveryReport, ProducerRecord, SendContext } from '../../src/client/accumulator.js';
import { BrokerError, ClosedError, InvalidArgumentError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { decodeRecordBatches, type RecordBatch } from '../../src/protocol/record-batch.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

const s = suite('producer engine (fake cluster)', { timeoutMs: 10_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Written { value: string; producerId: number; epoch: number; sequence: number }
interface ProduceCall { at: number; acks: number; batches: Array<{ topic: string; partition: number; batch: RecordBatch }> }

let open: Array<() => Promise<void> | void> = [];
s.before.each(() => { open = []; });
s.after.each(async () => {
  for (const close of open.reverse()) await close();
});

/** Every Produce request the fake received, in order, with its batches decoded. */
function produceCalls(fake: FakeCluster): ProduceCall[] {
  return fake.log.of('Produce').map((req) => {
    const body = req.body as { acks: number; topicData: Array<{ name: string; topicId: string; partitionData: Array<{ index: number; records: Buffer }> }> };
    return {
      at: req.at, acks: body.acks,
      batches: body.topicData.flatMap((t) => t.partitionData.map((p) => ({
        topic: fake.state.topicName(t.name, t.topicId, req.version >= 13), partition: p.index, batch: decodeRecordBatches(p.records)[0]!,
      }))),
    };
  });
}

/** What a partition's log holds, one entry per record, with its batch's producer id, epoch and base sequence. */
function written(fake: FakeCluster, topic = 't', partition = 0): Written[] {
  return fake.batches(topic, partition).flatMap((b) => [...b.records()].map((r) => ({ value: r.value!.toString(), producerId: b.producerId, epoch: b.producerEpoch, sequence: b.baseSequence })));
}

/** Holds every Produce request from now on (the first at the broker, the others queued behind it) until `release`. */
function hold(fake: FakeCluster): { release(): void } {
  let open!: () => void;
  const handle = fake.fault({ api: 'Produce', action: 'delay', until: new Promise<void>((r) => { open = r; }) });
  return { release: () => { handle.remove(); open(); } };
}

/** Refuses the next batches of t-`partition`, one code per batch (a request with that partition), in order. */
function refuse(fake: FakeCluster, codes: number[], partition = 0): void {
  for (const code of codes) fake.fault({ api: 'Produce', topic: 't', partition, times: 1, action: 'error', code });
}

async function setup(options: Partial<ProducerEngineOptions> = {}, topics: Record<string, number> = { t: 3 }) {
  const fake = await FakeCluster.start({ brokers: 1, topics });
  const cluster = new Cluster({ bootstrap: fake.bootstrap, retryMinMs: 5, retryMaxMs: 20, retryDeadlineMs: 2_000 });
  const invalidated: string[] = [];
  const invalidate = cluster.invalidate.bind(cluster);
  cluster.invalidate = (topic?: string) => { if (topic) invalidated.push(topic); invalidate(topic); };
  const engine = new ProducerEngine({ cluster, lingerMs: 0, retryBackoffMs: 5, retryBackoffMaxMs: 20, ...options });
  open.push(() => fake.close(), () => cluster.close({ timeoutMs: 500 }), () => engine.destroy());
  return { fake, cluster, engine, invalidated, calls: () => produceCalls(fake), log: (partition = 0) => written(fake, 't', partition) };
}

function send(engine: ProducerEngine, records: ProducerRecord[]): Promise<DeliveryReport> {
  return new Promise((resolve) => engine.send(records, resolve));
}

function send2(engine: ProducerEngine, records: ProducerRecord[], context: SendContext): Promise<DeliveryReport> {
  return new Promise((resolve) => engine.send(records, resolve, context));
}

/** `n` records of about 100 bytes, numbered so order and duplicates show. */
const values = (n: number, topic = 't', partition: number | undefined = 0) =>
  Array.from({ length: n }, (_, i) => ({ topic, partition, value: `v${i}:`.padEnd(100, '.') }));

s('records wait for linger.ms, then go as one batch in one request', async () => {
  const { calls, engine } = await setup({ lingerMs: 60 });
  const start = Date.now();
  const done = send(engine, values(10));
  await sleep(25);
  assert.is(calls().length, 0, 'still lingering');
  const report = await done;
  assert.is(calls().length, 1);
  assert.ok(calls()[0]!.at - start >= 55, `sent after ${calls()[0]!.at - start} ms`);
  assert.is(calls()[0]!.batches[0]!.batch.recordCount, 10);
  assert.equal(Array.from(report.offsets), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.is(report.errors, null);
});

s('a full batch goes at once without waiting for linger; the rest waits for flush', async () => {
  const { calls, log, engine } = await setup({ lingerMs: 60_000, batchBytes: 1000 });
  const done = send(engine, values(30));
  for (let i = 0; i < 200 && calls().length === 0; i++) await sleep(10);
  assert.ok(calls().length >= 1, 'full batches sent');
  const sent = calls().reduce((n, c) => n + c.batches[0]!.batch.recordCount, 0);
  assert.ok(sent < 30, 'the open batch lingers');
  await engine.flush();
  await done;
  assert.is(log().length, 30);
  assert.ok(calls().every((c) => c.batches[0]!.batch.bytes.length <= 1000));
});

s('send() returns false past maxBufferedBytes, and waitForSpace resolves once the broker answers', async () => {
  const { fake, log, engine } = await setup({ maxBufferedBytes: 2000 });
  const held = hold(fake);
  try {
    assert.ok(engine.send(values(5)), 'under the bound');
    const accepted = engine.send(values(20));
    assert.not.ok(accepted, 'over the bound: push back');
    let resolved = false;
    const space = engine.waitForSpace().then(() => { resolved = true; });
    await sleep(20);
    assert.not.ok(resolved);
    held.release();
    await space;
  } finally {
    held.release();
  }
  await engine.flush();
  assert.is(log().length, 25, 'records sent while full were kept, not dropped');
});

s('partition choice: key hash as Kafka\'s, explicit partition, sticky for null keys, bad partition fails', async () => {
  const { engine } = await setup({ batchBytes: 600 }, { t: 5 });
  // murmur2 of these keys as Kafka's Java client computes it (apache/kafka UtilsTest.testMurmur2); Kafka's
  // partition for a key is toPositive(murmur2(key)) % partitions, toPositive being `& 0x7fffffff`.
  const javaMurmur2: Array<[string, number]> = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
  const keyed = javaMurmur2.map(([key]) => ({ topic: 't', key, value: 'v' }));
  const r1 = await send(engine, keyed);
  const chosen = keyed.map((_, i) => r1.partitions[i]);
  assert.equal(chosen, javaMurmur2.map(([, h]) => (h & 0x7fffffff) % 5));
  assert.equal(chosen, [0, 1, 2, 4, 2, 2], 'the values worked out by hand');
  const r2 = await send(engine, [{ topic: 't', key: 'x', partition: 3, value: 'v' }, { topic: 't', partition: 9, value: 'v' }]);
  assert.is(r2.partitions[0], 3);
  assert.instance(r2.errors![1], InvalidArgumentError);
  assert.ok(r2.offsets[0]! >= 0);
  const nullKeys = Array.from({ length: 40 }, () => ({ topic: 't', value: 'x'.repeat(50) }));
  const r3 = await send(engine, nullKeys);
  const runs: number[] = [];
  for (const p of r3.partitions) if (runs[runs.length - 1] !== p) runs.push(p);
  assert.ok(runs.length >= 3 && runs.length <= 10, `sticky runs ${runs}`);
  for (let i = 1; i < runs.length; i++) assert.is.not(runs[i], runs[i - 1], 'moves on when the batch is full');
});

s('idempotence: one producer id; contiguous sequences per partition across pipelined requests', async () => {
  // Several records per batch, so a sequence counted per batch (0, 1, 2...) differs from one counted per record.
  const { calls, engine } = await setup({ batchBytes: 700 });
  await Promise.all([send(engine, values(40, 't', 0)), send(engine, values(40, 't', 1))]);
  const batches = calls().flatMap((c) => c.batches);
  assert.ok(batches.length >= 8, `${batches.length} batches`);
  assert.ok(batches.filter((b) => b.batch.recordCount >= 3).length >= 6, `records per batch: ${batches.map((b) => b.batch.recordCount)}`);
  assert.ok(calls().length >= 4, `${calls().length} requests`);
  assert.ok(batches.every((b) => b.batch.producerId === 1000 && b.batch.producerEpoch === 0));
  for (const p of [0, 1]) {
    let next = 0;
    for (const b of batches.filter((x) => x.partition === p)) {
      assert.is(b.batch.baseSequence, next);
      next += b.batch.recordCount;
    }
    assert.is(next, 40);
  }
  assert.ok(calls().some((c) => c.batches.length === 2), 'both partitions in one request');
});

s('NOT_LEADER_OR_FOLLOWER: metadata refreshed, batch retried with its sequence, order kept behind it', async () => {
  const { fake, log, invalidated, engine } = await setup({ batchBytes: 200 });
  // The old leader refuses every batch of the partition that reaches it: the five in flight.
  refuse(fake, Array.from({ length: 5 }, () => errorCodes.NOT_LEADER_OR_FOLLOWER));
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.ok(invalidated.includes('t'));
  assert.equal(log().map((w) => w.value), values(30).map((r) => r.value), 'all once, in order');
  assert.ok(engine.stats.retries >= 1);
  assert.is(engine.producerId.epoch, 0, 'no epoch bump needed');
});

s('a partition\'s first batch under an epoch goes alone: refused, it is retried and nothing overtakes it', async () => {
  const { fake, log, calls, engine } = await setup({ batchBytes: 200 });
  // A broker without state for a new producer id accepts any first sequence: had a later batch been in flight
  // beside the refused first one, it would have been written first and the first could never follow it.
  refuse(fake, [errorCodes.NOT_LEADER_OR_FOLLOWER]);
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.equal(log().map((w) => w.value), values(30).map((r) => r.value), 'all once, in order');
  const t0 = calls().map((c) => c.batches.filter((b) => b.partition === 0).map((b) => b.batch.baseSequence));
  assert.equal(t0.slice(0, 2), [[0], [0]], 'the first batch alone, refused, then again alone');
  assert.is(engine.producerId.epoch, 0, 'no epoch bump needed');
});

s('state lost mid-stream (producer id expired): a batch refused while a later one got in fails at once, nothing duplicated', async () => {
  const { fake, log, engine } = await setup({ batchBytes: 200 });
  assert.is((await send(engine, values(30))).errors, null);
  // Without state the broker takes any sequence, so the batches in flight behind the refused one are written.
  fake.forgetProducers();
  refuse(fake, [errorCodes.NOT_LEADER_OR_FOLLOWER]);
  const started = Date.now();
  const report = await send(engine, values(30));
  assert.ok(Date.now() - started < 2_000, 'not held until the delivery timeout');
  const failed = report.errors!.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
  assert.ok(failed.length > 0 && failed[0] === 0, `failed ${failed}`);
  assert.ok(report.errors!.filter(Boolean).every((e) => (e as { errorName?: string }).errorName === 'OUT_OF_ORDER_SEQUENCE_NUMBER'));
  const later = log().slice(30).map((w) => w.value);
  assert.is(later.length + failed.length, 30, 'every record either written once or reported failed');
  assert.is(new Set(later).size, later.length);
  assert.is((await send(engine, values(2))).errors, null, 'the producer goes on under a new epoch');
});

s('after the first acknowledgement the partition pipelines again, and after an epoch bump it waits again', async () => {
  const { fake, log, calls, engine } = await setup({ batchBytes: 200 });
  let first: ReturnType<typeof send>;
  let more: ReturnType<typeof send>;
  let held = hold(fake);
  try { // a failed check must not leave requests held (the run would wait for their timeouts)
    first = send(engine, values(30));
    await eventually('the first request reached the broker', () => fake.pending('Produce') >= 1);
    await sleep(20); // time for any request sent beside it to arrive
    assert.is(fake.pending('Produce'), 1, 'one batch in flight before any acknowledgement');
    assert.is(calls().length, 1);
    held.release();
    assert.is((await first).errors, null);
    held = hold(fake);
    more = send(engine, values(30));
    // Every request held now is one of `more`'s: two or more at once is the pipeline.
    await eventually('pipelined once acknowledged: two or more requests held at once', () => fake.pending('Produce') >= 2);
  } finally {
    held.release();
  }
  assert.is((await first).errors, null);
  assert.is((await more).errors, null);
  refuse(fake, [errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER]);
  const before = calls().length;
  assert.is((await send(engine, values(30))).errors, null);
  assert.is(engine.producerId.epoch, 1);
  const bumped = calls().slice(before).map((c) => c.batches.map((b) => [b.batch.producerEpoch, b.batch.baseSequence]));
  const firstOfEpoch = bumped.findIndex((c) => c.some(([e]) => e === 1));
  assert.equal(bumped[firstOfEpoch], [[1, 0]], 'the new epoch\'s first batch goes alone');
  assert.is(log().length, 90);
});

s('a lost connection: the whole request is retried, nothing duplicated', async () => {
  const { fake, log, engine } = await setup({ batchBytes: 200 });
  // The connection closes on each of the next five Produce requests: every request in flight on it fails with it.
  const reset = fake.fault({ api: 'Produce', times: 5, action: 'reset' });
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.ok(reset.fired >= 1);
  assert.equal(log().map((w) => w.value), values(30).map((r) => r.value));
});

s('a duplicate (written, answer lost) is a success, not a second copy', async () => {
  const { fake, log, engine } = await setup();
  // The broker writes the batch, then the connection drops before the answer: the retry is a duplicate.
  const lost = fake.fault({ api: 'Produce', times: 1, action: 'reset-after' });
  const report = await send(engine, values(5));
  assert.is(lost.fired, 1);
  assert.is(report.errors, null);
  assert.is(log().length, 5, 'written once');
  assert.equal(Array.from(report.offsets), [0, 1, 2, 3, 4], 'the original offsets');
});

s('DUPLICATE_SEQUENCE_NUMBER counts as written (offset unknown)', async () => {
  const { fake, engine } = await setup();
  refuse(fake, [errorCodes.DUPLICATE_SEQUENCE_NUMBER]);
  const report = await send(engine, values(3));
  assert.is(report.errors, null);
  assert.equal(Array.from(report.offsets), [-1, -1, -1]);
});

s('OUT_OF_ORDER_SEQUENCE_NUMBER on the expected batch: epoch bumped, sequences restart at 0', async () => {
  const { fake, log, engine } = await setup();
  await send(engine, values(3));
  refuse(fake, [errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER]);
  const report = await send(engine, values(4));
  assert.is(report.errors, null);
  assert.is(engine.producerId.epoch, 1);
  const last = log().at(-1)!;
  assert.equal([last.epoch, last.sequence], [1, 0]);
  assert.is(log().length, 7);
});

s('UNKNOWN_PRODUCER_ID bumps the epoch even on a batch that is not the next expected one (KIP-360)', async () => {
  const { fake, log, engine } = await setup({ batchBytes: 200 });
  assert.is((await send(engine, values(30))).errors, null, 'acknowledged: the partition pipelines');
  // The first batch in flight is refused (retriable), the second is told the broker lost our producer: its
  // sequence is not the next expected one (the first is not acknowledged), yet only a new epoch recovers.
  refuse(fake, [errorCodes.NOT_LEADER_OR_FOLLOWER, errorCodes.UNKNOWN_PRODUCER_ID]);
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.is(engine.producerId.epoch, 1, 'epoch bumped');
  const written = log();
  assert.is(written.length, 60);
  assert.is(new Set(written.map((w) => `${w.value}/${w.epoch}/${w.sequence}`)).size, 60);
  assert.ok(written.slice(30).some((w) => w.epoch === 1), 'written under the new epoch');
});

s('a batch failed for good after it was sent leaves a sequence gap: the epoch is bumped, the next batch starts at 0', async () => {
  const { fake, log, engine } = await setup({ deliveryTimeoutMs: 1_000, requestTimeoutMs: 500 });
  assert.is((await send(engine, values(3))).errors, null, 'the broker holds our sequences 0..2');
  refuse(fake, [errorCodes.INVALID_RECORD]);
  const failed = await send(engine, values(2));
  assert.ok(failed.errors!.every((e) => (e as { errorName?: string }).errorName === 'INVALID_RECORD'));
  // Sequences 3..4 were spent on the failed batch: without a new epoch the next batch (5..) is out of order forever.
  const later = await send(engine, values(2));
  assert.is(later.errors, null, 'the next batch is written');
  assert.is(engine.producerId.epoch, 1);
  const written = log();
  assert.is(written.length, 5);
  assert.equal([written.at(-2)!.epoch, written.at(-2)!.sequence], [1, 0]);
});

s('PRODUCER_FENCED: a new producer id, then the batch is written', async () => {
  const { fake, log, engine } = await setup();
  await send(engine, values(2));
  refuse(fake, [errorCodes.PRODUCER_FENCED]);
  const report = await send(engine, values(2));
  assert.is(report.errors, null);
  assert.is(engine.producerId.id, 1001);
  assert.is(log().at(-1)!.producerId, 1001);
});

s('an acknowledged batch\'s memory encodes the next batch; a failed batch\'s is never reused', async () => {
  const { fake, cluster, log, engine } = await setup({ idempotent: false, acks: 1, batchBytes: 64 * 1024 });
  // What the engine hands our Broker, seen on the client side (the fake only sees the bytes).
  await cluster.topic('t');
  const broker = cluster.broker(fake.leaderOf('t', 0));
  const seen: Buffer[] = [];
  const request = broker.request.bind(broker);
  broker.request = ((api, body, options) => {
    if (api.name === 'Produce') for (const t of (body as unknown as { topicData: Array<{ partitionData: Array<{ records: Buffer }> }> }).topicData) for (const p of t.partitionData) seen.push(p.records);
    return request(api, body, options);
  }) as typeof broker.request;
  const big = (tag: string) => Array.from({ length: 4 }, (_, i) => ({ topic: 't', partition: 0, value: `${tag}${i}:`.padEnd(8_000, tag) }));
  assert.is((await send(engine, big('a'))).errors, null);
  assert.is((await send(engine, big('b'))).errors, null);
  assert.is(seen[1]!.buffer, seen[0]!.buffer, 'the second batch was encoded into the first one\'s memory');
  refuse(fake, [errorCodes.INVALID_RECORD]);
  assert.ok((await send(engine, big('c'))).errors);
  const kept = Buffer.from(seen[2]!);
  assert.is((await send(engine, big('d'))).errors, null);
  assert.is.not(seen[3]!.buffer, seen[2]!.buffer, 'the failed batch\'s memory was not taken again');
  assert.ok(seen[2]!.equals(kept), 'nor overwritten');
  assert.equal(log().map((w) => w.value.slice(0, 3)), ['a0:', 'a1:', 'a2:', 'a3:', 'b0:', 'b1:', 'b2:', 'b3:', 'd0:', 'd1:', 'd2:', 'd3:']);
});

s('a send context: one topic for every record (their own ignored), its headers before theirs, a new batch when they change', async () => {
  const { calls, log, engine } = await setup({ lingerMs: 30 });
  const h1 = [{ key: 'request-id', value: Buffer.from('r1') }];
  const h2 = [...h1, { key: 'svc', value: Buffer.from('s') }];
  const one = send2(engine, [{ value: 'a', partition: 0 }, { topic: 'elsewhere', value: 'b', partition: 0, headers: [{ key: 'own', value: 'o' }] }], { topic: 't', headers: h1 });
  const two = send2(engine, [{ value: 'c', partition: 0 }], { topic: 't', headers: h2 });
  assert.is((await one).errors, null);
  assert.is((await two).errors, null);
  const batches = calls().flatMap((c) => c.batches).filter((b) => b.topic === 't');
  assert.is(batches.length, 2, 'the header change started a batch');
  const headers = batches.flatMap((b) => [...b.batch.records()].map((r) => r.headers.map((h) => `${h.key}=${h.value}`).join(',')));
  assert.equal(headers, ['request-id=r1', 'request-id=r1,own=o', 'request-id=r1,svc=s']);
  assert.equal(log().map((w) => w.value), ['a', 'b', 'c']);
});

s('a non-retriable error fails the batch\'s records with a typed BrokerError', async () => {
  const { fake, engine } = await setup();
  refuse(fake, [errorCodes.TOPIC_AUTHORIZATION_FAILED]);
  const report = await send(engine, values(3));
  assert.ok(report.errors!.every((e) => e instanceof BrokerError && e.errorName === 'TOPIC_AUTHORIZATION_FAILED'));
  const later = await send(engine, values(2));
  assert.is(later.errors, null, 'the next batch goes through (under a new epoch)');
});

s('records still failing after the delivery timeout get DeliveryTimeoutError with the cause', async () => {
  const { fake, engine } = await setup({ deliveryTimeoutMs: 150, requestTimeoutMs: 100 });
  fake.fault({ api: 'Produce', topic: 't', partition: 0, action: 'error', code: errorCodes.NOT_ENOUGH_REPLICAS });
  const started = Date.now();
  const report = await send(engine, values(3));
  const err = report.errors![0]!;
  assert.instance(err, DeliveryTimeoutError);
  assert.match(String((err as Error & { cause?: Error }).cause?.message), 'NOT_ENOUGH_REPLICAS');
  assert.ok(Date.now() - started >= 140);
});

s('acks=0: no idempotence, no answers awaited', async () => {
  const { fake, calls, engine } = await setup({ acks: 0 });
  const report = await send(engine, values(3));
  assert.is(report.errors, null);
  assert.equal(Array.from(report.offsets), [-1, -1, -1]);
  await eventually('the request reached the broker', () => calls().length === 1);
  assert.is(calls()[0]!.acks, 0);
  assert.is(calls()[0]!.batches[0]!.batch.producerId, -1);
  assert.is(fake.log.count('InitProducerId'), 0);
});

s('records for a topic without metadata yet wait for it; a topic whose lookup fails for good fails them', async () => {
  const { fake, engine } = await setup({}, { t: 1 });
  // A non-retriable metadata error for one topic (not authorized) fails its records at once, and only those.
  fake.fault({ api: 'Metadata', topic: 'nope', action: 'error', code: errorCodes.TOPIC_AUTHORIZATION_FAILED });
  const report = await send(engine, [{ topic: 't', value: 'a' }, { topic: 'nope', value: 'b' }]);
  assert.is(report.errors![0], undefined);
  assert.instance(report.errors![1], BrokerError);
  assert.is((report.errors![1] as BrokerError).errorName, 'TOPIC_AUTHORIZATION_FAILED');
  assert.equal(fake.records('t', 0).map((r) => r.value!.toString()), ['a']);
});

s('a topic the cluster does not have (retriable for Kafka): its records wait for metadata up to the delivery timeout, the others go', async () => {
  const { engine } = await setup({ deliveryTimeoutMs: 200, requestTimeoutMs: 100, lingerMs: 0 }, { t: 1 });
  const started = Date.now();
  const report = await send(engine, [{ topic: 't', value: 'a' }, { topic: 'nope', value: 'b' }]);
  assert.is(report.errors![0], undefined);
  assert.instance(report.errors![1], DeliveryTimeoutError);
  assert.match(report.errors![1]!.message, /no metadata for topic nope within 200 ms/);
  assert.ok(Date.now() - started >= 190, `failed after ${Date.now() - started} ms`);
});

s('invalid options are listed together', async () => {
  const { cluster } = await setup();
  try {
    new ProducerEngine({ cluster, acks: 1, idempotent: true, maxInFlight: 0, lingerMs: -1 });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InvalidArgumentError);
    assert.is((err as InvalidArgumentError).problems.length, 3);
  }
});

s('close() flushes what was accepted, then refuses new records', async () => {
  const { log, engine } = await setup({ lingerMs: 60_000 });
  const done = send(engine, values(5));
  await engine.close();
  assert.is((await done).errors, null);
  assert.is(log().length, 5);
  assert.throws(() => engine.send(values(1)), (e: unknown) => e instanceof ClosedError);
});

s('a record larger than a request fails at once; destroy() fails what is still queued', async () => {
  const { fake, engine } = await setup({ maxMessageBytes: 5000, lingerMs: 60_000 });
  const big = await send(engine, [{ topic: 't', value: 'x'.repeat(6000) }]);
  assert.instance(big.errors![0], InvalidArgumentError);
  const pending = send(engine, values(3));
  await sleep(20);
  engine.destroy(new ClosedError('going away'));
  const report = await pending;
  assert.ok(report.errors!.every((e) => e instanceof ClosedError));
  assert.is(fake.log.count('Produce'), 0);
  assert.throws(() => engine.send(values(1)), (e: unknown) => e instanceof ClosedError);
});

s.run();
