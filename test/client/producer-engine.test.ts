/**
 * The sender against an in-memory broker that keeps a log per partition and checks producer sequences the way
 * Kafka's brokers do (duplicate → DUPLICATE_SEQUENCE_NUMBER, gap → OUT_OF_ORDER_SEQUENCE_NUMBER, new epoch →
 * sequence 0), with failures injected. The real broker's behaviour is covered by integration/produce*.test.ts.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { DeliveryTimeoutError, ProducerEngine, type ProducerCluster, type ProducerEngineOptions } from '../../src/client/producer-engine.js';
import type { DeliveryReport, ProducerRecord, SendContext } from '../../src/client/accumulator.js';
import { ClosedError, ConnectionError, InvalidArgumentError } from '../../src/errors.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { decodeRecordBatches, type RecordBatch } from '../../src/protocol/record-batch.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';

const s = suite('producer engine (in-memory broker)');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Written { value: string; producerId: number; epoch: number; sequence: number }
interface ProduceCall { at: number; acks: number; batches: Array<{ topic: string; partition: number; batch: RecordBatch }> }
type Fault = number | Error;

/** One broker leading every partition: a log per partition, Kafka's sequence checks, injectable faults. */
class FakeBroker {
  readonly logs = new Map<string, Written[]>();
  readonly calls: ProduceCall[] = [];
  /** Per partition key, faults applied to the next batches of that partition, in order. */
  readonly faults = new Map<string, Fault[]>();
  /** Faults for the next whole requests (a lost connection). */
  requestFaults: Error[] = [];
  held: Array<() => void> = [];
  hold = false;
  nextProducerId = 1000;
  private readonly state = new Map<string, { epoch: number; lastSeq: number; lastOffsets: Map<number, number> }>();

  async request(api: ApiDef, body: any, options?: { expectResponse?: boolean }): Promise<any> {
    if (api === InitProducerId) return { errorCode: 0, producerId: BigInt(this.nextProducerId++), producerEpoch: 0 };
    if (api !== Produce) throw new Error(`unexpected ${api.name}`);
    const call: ProduceCall = { at: Date.now(), acks: body.acks, batches: [] };
    for (const t of body.topicData) {
      for (const p of t.partitionData) call.batches.push({ topic: t.name, partition: p.index, batch: decodeRecordBatches(p.records)[0]! });
    }
    this.calls.push(call);
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    await sleep(1);
    const fault = this.requestFaults.shift();
    if (fault) throw fault;
    const res = {
      throttleTimeMs: 0,
      responses: body.topicData.map((t: any) => ({
        name: t.name, topicId: t.topicId,
        partitionResponses: t.partitionData.map((p: any) => this.append(t.name, p.index, call.batches.find((b) => b.topic === t.name && b.partition === p.index)!.batch)),
      })),
    };
    return options?.expectResponse === false ? undefined : res;
  }

  /** Drops every producer's state, as a broker does once `producer.id.expiration.ms` passed without a write. */
  forgetProducers(): void {
    this.state.clear();
  }

  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  private append(topic: string, partition: number, b: RecordBatch): object {
    const key = `${topic}-${partition}`;
    const stateKey = `${key}/${b.producerId}`;
    const answer = (errorCode: number, baseOffset = -1) => ({ index: partition, errorCode, baseOffset: BigInt(baseOffset), recordErrors: [], errorMessage: null });
    const fault = this.faults.get(key)?.shift();
    if (fault instanceof Error) throw fault;
    if (typeof fault === 'number') return answer(fault);
    const log = this.logs.get(key) ?? [];
    this.logs.set(key, log);
    if (b.producerId >= 0) {
      const st = this.state.get(stateKey);
      if (st && b.producerEpoch === st.epoch) {
        const dup = st.lastOffsets.get(b.baseSequence);
        if (dup !== undefined) return answer(0, dup); // within the broker's recent batches: the original offset
        if (b.baseSequence !== st.lastSeq + 1) return answer(errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER);
      } else if (b.baseSequence !== 0 && st) {
        // A new epoch must start at 0; a producer the broker has no state for may start anywhere (Kafka 2.5+).
        return answer(errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER);
      }
      const next = st && b.producerEpoch === st.epoch ? st : { epoch: b.producerEpoch, lastSeq: -1, lastOffsets: new Map<number, number>() };
      next.lastSeq = b.baseSequence + b.recordCount - 1;
      next.lastOffsets.set(b.baseSequence, log.length);
      this.state.set(stateKey, next);
    }
    const base = log.length;
    for (const r of b.records()) log.push({ value: r.value!.toString(), producerId: b.producerId, epoch: b.producerEpoch, sequence: b.baseSequence });
    return answer(0, base);
  }
}

function fakeCluster(broker: FakeBroker, partitions: Record<string, number>): ProducerCluster & { invalidated: string[]; lookups: number } {
  const c = {
    invalidated: [] as string[],
    lookups: 0,
    async topic(name: string) {
      c.lookups++;
      const n = partitions[name];
      if (n === undefined) throw new InvalidArgumentError(`no topic ${name}`);
      return { name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: Array.from({ length: n }, (_, partition) => ({ partition, leaderId: 1 })) };
    },
    broker: () => broker as never,
    anyBroker: async () => broker as never,
    invalidate(topic?: string) { if (topic) c.invalidated.push(topic); },
  };
  return c;
}

function setup(options: Partial<ProducerEngineOptions> = {}, partitions: Record<string, number> = { t: 3 }) {
  const broker = new FakeBroker();
  const cluster = fakeCluster(broker, partitions);
  const engine = new ProducerEngine({ cluster, lingerMs: 0, retryBackoffMs: 5, retryBackoffMaxMs: 20, ...options });
  return { broker, cluster, engine };
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
  const { broker, engine } = setup({ lingerMs: 60 });
  const start = Date.now();
  const done = send(engine, values(10));
  await sleep(25);
  assert.is(broker.calls.length, 0, 'still lingering');
  const report = await done;
  assert.is(broker.calls.length, 1);
  assert.ok(broker.calls[0]!.at - start >= 55, `sent after ${broker.calls[0]!.at - start} ms`);
  assert.is(broker.calls[0]!.batches[0]!.batch.recordCount, 10);
  assert.equal(Array.from(report.offsets), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.is(report.errors, null);
});

s('a full batch goes at once without waiting for linger; the rest waits for flush', async () => {
  const { broker, engine } = setup({ lingerMs: 60_000, batchBytes: 1000 });
  const done = send(engine, values(30));
  for (let i = 0; i < 200 && broker.calls.length === 0; i++) await sleep(10);
  assert.ok(broker.calls.length >= 1, 'full batches sent');
  const sent = broker.calls.reduce((n, c) => n + c.batches[0]!.batch.recordCount, 0);
  assert.ok(sent < 30, 'the open batch lingers');
  await engine.flush();
  await done;
  assert.is(broker.logs.get('t-0')!.length, 30);
  assert.ok(broker.calls.every((c) => c.batches[0]!.batch.bytes.length <= 1000));
});

s('send() returns false past maxBufferedBytes, and waitForSpace resolves once the broker answers', async () => {
  const { broker, engine } = setup({ maxBufferedBytes: 2000 });
  broker.hold = true;
  assert.ok(engine.send(values(5)), 'under the bound');
  const accepted = engine.send(values(20));
  assert.not.ok(accepted, 'over the bound: push back');
  let resolved = false;
  const space = engine.waitForSpace().then(() => { resolved = true; });
  await sleep(20);
  assert.not.ok(resolved);
  broker.release();
  await space;
  await engine.flush();
  assert.is(broker.logs.get('t-0')!.length, 25, 'records sent while full were kept, not dropped');
});

s('partition choice: key hash as Kafka\'s, explicit partition, sticky for null keys, bad partition fails', async () => {
  const { engine } = setup({ batchBytes: 600 }, { t: 5 });
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
  const { broker, engine } = setup({ batchBytes: 700 });
  await Promise.all([send(engine, values(40, 't', 0)), send(engine, values(40, 't', 1))]);
  const batches = broker.calls.flatMap((c) => c.batches);
  assert.ok(batches.length >= 8, `${batches.length} batches`);
  assert.ok(batches.filter((b) => b.batch.recordCount >= 3).length >= 6, `records per batch: ${batches.map((b) => b.batch.recordCount)}`);
  assert.ok(broker.calls.length >= 4, `${broker.calls.length} requests`);
  assert.ok(batches.every((b) => b.batch.producerId === 1000 && b.batch.producerEpoch === 0));
  for (const p of [0, 1]) {
    let next = 0;
    for (const b of batches.filter((x) => x.partition === p)) {
      assert.is(b.batch.baseSequence, next);
      next += b.batch.recordCount;
    }
    assert.is(next, 40);
  }
  assert.ok(broker.calls.some((c) => c.batches.length === 2), 'both partitions in one request');
});

s('NOT_LEADER_OR_FOLLOWER: metadata refreshed, batch retried with its sequence, order kept behind it', async () => {
  const { broker, cluster, engine } = setup({ batchBytes: 200 });
  // The old leader refuses every batch of the partition that reaches it: the five in flight.
  broker.faults.set('t-0', Array.from({ length: 5 }, () => errorCodes.NOT_LEADER_OR_FOLLOWER));
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.ok(cluster.invalidated.includes('t'));
  assert.equal(broker.logs.get('t-0')!.map((w) => w.value), values(30).map((r) => r.value), 'all once, in order');
  assert.ok(engine.stats.retries >= 1);
  assert.is(engine.producerId.epoch, 0, 'no epoch bump needed');
});

s('a partition\'s first batch under an epoch goes alone: refused, it is retried and nothing overtakes it', async () => {
  const { broker, engine } = setup({ batchBytes: 200 });
  // A broker without state for a new producer id accepts any first sequence: had a later batch been in flight
  // beside the refused first one, it would have been written first and the first could never follow it.
  broker.faults.set('t-0', [errorCodes.NOT_LEADER_OR_FOLLOWER]);
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.equal(broker.logs.get('t-0')!.map((w) => w.value), values(30).map((r) => r.value), 'all once, in order');
  const t0 = broker.calls.map((c) => c.batches.filter((b) => b.partition === 0).map((b) => b.batch.baseSequence));
  assert.equal(t0.slice(0, 2), [[0], [0]], 'the first batch alone, refused, then again alone');
  assert.is(engine.producerId.epoch, 0, 'no epoch bump needed');
});

s('state lost mid-stream (producer id expired): a batch refused while a later one got in fails at once, nothing duplicated', async () => {
  const { broker, engine } = setup({ batchBytes: 200 });
  assert.is((await send(engine, values(30))).errors, null);
  // Without state the broker takes any sequence, so the batches in flight behind the refused one are written.
  broker.forgetProducers();
  broker.faults.set('t-0', [errorCodes.NOT_LEADER_OR_FOLLOWER]);
  const started = Date.now();
  const report = await send(engine, values(30));
  assert.ok(Date.now() - started < 2_000, 'not held until the delivery timeout');
  const failed = report.errors!.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
  assert.ok(failed.length > 0 && failed[0] === 0, `failed ${failed}`);
  assert.ok(report.errors!.filter(Boolean).every((e) => (e as { errorName?: string }).errorName === 'OUT_OF_ORDER_SEQUENCE_NUMBER'));
  const written = broker.logs.get('t-0')!.slice(30).map((w) => w.value);
  assert.is(written.length + failed.length, 30, 'every record either written once or reported failed');
  assert.is(new Set(written).size, written.length);
  assert.is((await send(engine, values(2))).errors, null, 'the producer goes on under a new epoch');
});

s('after the first acknowledgement the partition pipelines again, and after an epoch bump it waits again', async () => {
  const { broker, engine } = setup({ batchBytes: 200 });
  let first: ReturnType<typeof send>;
  let more: ReturnType<typeof send>;
  try { // a failed check must not leave requests held (the run would wait for their timeouts)
    broker.hold = true;
    first = send(engine, values(30));
    await sleep(20);
    assert.is(broker.calls.length, 1, 'one batch in flight before any acknowledgement');
    broker.release();
    await sleep(20);
    broker.hold = true;
    more = send(engine, values(30));
    await sleep(20);
    assert.ok(broker.held.length >= 2, `pipelined once acknowledged: ${broker.held.length} requests held`);
  } finally {
    broker.release();
  }
  assert.is((await first).errors, null);
  assert.is((await more).errors, null);
  broker.faults.set('t-0', [errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER]);
  const before = broker.calls.length;
  assert.is((await send(engine, values(30))).errors, null);
  assert.is(engine.producerId.epoch, 1);
  const bumped = broker.calls.slice(before).map((c) => c.batches.map((b) => [b.batch.producerEpoch, b.batch.baseSequence]));
  const firstOfEpoch = bumped.findIndex((c) => c.some(([e]) => e === 1));
  assert.equal(bumped[firstOfEpoch], [[1, 0]], 'the new epoch\'s first batch goes alone');
  assert.is(broker.logs.get('t-0')!.length, 90);
});

s('a lost connection: the whole request is retried, nothing duplicated', async () => {
  const { broker, engine } = setup({ batchBytes: 200 });
  // Every request in flight on the socket fails with it.
  broker.requestFaults.push(...Array.from({ length: 5 }, () => new ConnectionError('socket closed')));
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.equal(broker.logs.get('t-0')!.map((w) => w.value), values(30).map((r) => r.value));
});

s('a duplicate (written, answer lost) is a success, not a second copy', async () => {
  const { broker, engine } = setup();
  // The broker writes the batch, then the connection drops before the answer: the retry is a duplicate.
  const original = broker.request.bind(broker);
  let first = true;
  broker.request = async (api, body, o) => {
    const res = await original(api, body, o);
    if (api === Produce && first) { first = false; throw new ConnectionError('lost after write'); }
    return res;
  };
  const report = await send(engine, values(5));
  assert.is(report.errors, null);
  assert.is(broker.logs.get('t-0')!.length, 5, 'written once');
  assert.equal(Array.from(report.offsets), [0, 1, 2, 3, 4], 'the original offsets');
});

s('DUPLICATE_SEQUENCE_NUMBER counts as written (offset unknown)', async () => {
  const { broker, engine } = setup();
  broker.faults.set('t-0', [errorCodes.DUPLICATE_SEQUENCE_NUMBER]);
  const report = await send(engine, values(3));
  assert.is(report.errors, null);
  assert.equal(Array.from(report.offsets), [-1, -1, -1]);
});

s('OUT_OF_ORDER_SEQUENCE_NUMBER on the expected batch: epoch bumped, sequences restart at 0', async () => {
  const { broker, engine } = setup();
  await send(engine, values(3));
  broker.faults.set('t-0', [errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER]);
  const report = await send(engine, values(4));
  assert.is(report.errors, null);
  assert.is(engine.producerId.epoch, 1);
  const last = broker.logs.get('t-0')!.at(-1)!;
  assert.equal([last.epoch, last.sequence], [1, 0]);
  assert.is(broker.logs.get('t-0')!.length, 7);
});

s('UNKNOWN_PRODUCER_ID bumps the epoch even on a batch that is not the next expected one (KIP-360)', async () => {
  const { broker, engine } = setup({ batchBytes: 200 });
  assert.is((await send(engine, values(30))).errors, null, 'acknowledged: the partition pipelines');
  // The first batch in flight is refused (retriable), the second is told the broker lost our producer: its
  // sequence is not the next expected one (the first is not acknowledged), yet only a new epoch recovers.
  broker.faults.set('t-0', [errorCodes.NOT_LEADER_OR_FOLLOWER, errorCodes.UNKNOWN_PRODUCER_ID]);
  const report = await send(engine, values(30));
  assert.is(report.errors, null);
  assert.is(engine.producerId.epoch, 1, 'epoch bumped');
  const log = broker.logs.get('t-0')!;
  assert.is(log.length, 60);
  assert.is(new Set(log.map((w) => `${w.value}/${w.epoch}/${w.sequence}`)).size, 60);
  assert.ok(log.slice(30).some((w) => w.epoch === 1), 'written under the new epoch');
});

s('a batch failed for good after it was sent leaves a sequence gap: the epoch is bumped, the next batch starts at 0', async () => {
  const { broker, engine } = setup({ deliveryTimeoutMs: 1_000, requestTimeoutMs: 500 });
  assert.is((await send(engine, values(3))).errors, null, 'the broker holds our sequences 0..2');
  broker.faults.set('t-0', [errorCodes.INVALID_RECORD]);
  const failed = await send(engine, values(2));
  assert.ok(failed.errors!.every((e) => (e as { errorName?: string }).errorName === 'INVALID_RECORD'));
  // Sequences 3..4 were spent on the failed batch: without a new epoch the next batch (5..) is out of order forever.
  const later = await send(engine, values(2));
  assert.is(later.errors, null, 'the next batch is written');
  assert.is(engine.producerId.epoch, 1);
  const log = broker.logs.get('t-0')!;
  assert.is(log.length, 5);
  assert.equal([log.at(-2)!.epoch, log.at(-2)!.sequence], [1, 0]);
});

s('PRODUCER_FENCED: a new producer id, then the batch is written', async () => {
  const { broker, engine } = setup();
  await send(engine, values(2));
  broker.faults.set('t-0', [errorCodes.PRODUCER_FENCED]);
  const report = await send(engine, values(2));
  assert.is(report.errors, null);
  assert.is(engine.producerId.id, 1001);
  assert.is(broker.logs.get('t-0')!.at(-1)!.producerId, 1001);
});

s('an acknowledged batch\'s memory encodes the next batch; a failed batch\'s is never reused', async () => {
  const { broker, engine } = setup({ idempotent: false, acks: 1, batchBytes: 64 * 1024 });
  const seen: Buffer[] = [];
  const request = broker.request.bind(broker);
  broker.request = (api, body, options) => {
    if (api === Produce) for (const t of body.topicData) for (const p of t.partitionData) seen.push(p.records);
    return request(api, body, options);
  };
  const big = (tag: string) => Array.from({ length: 4 }, (_, i) => ({ topic: 't', partition: 0, value: `${tag}${i}:`.padEnd(8_000, tag) }));
  assert.is((await send(engine, big('a'))).errors, null);
  assert.is((await send(engine, big('b'))).errors, null);
  assert.is(seen[1]!.buffer, seen[0]!.buffer, 'the second batch was encoded into the first one\'s memory');
  broker.faults.set('t-0', [errorCodes.INVALID_RECORD]);
  assert.ok((await send(engine, big('c'))).errors);
  const kept = Buffer.from(seen[2]!);
  assert.is((await send(engine, big('d'))).errors, null);
  assert.is.not(seen[3]!.buffer, seen[2]!.buffer, 'the failed batch\'s memory was not taken again');
  assert.ok(seen[2]!.equals(kept), 'nor overwritten');
  assert.equal(broker.logs.get('t-0')!.map((w) => w.value.slice(0, 3)), ['a0:', 'a1:', 'a2:', 'a3:', 'b0:', 'b1:', 'b2:', 'b3:', 'd0:', 'd1:', 'd2:', 'd3:']);
});

s('a send context: one topic for every record (their own ignored), its headers before theirs, a new batch when they change', async () => {
  const { broker, engine } = setup({ lingerMs: 30 });
  const h1 = [{ key: 'request-id', value: Buffer.from('r1') }];
  const h2 = [...h1, { key: 'svc', value: Buffer.from('s') }];
  const one = send2(engine, [{ value: 'a', partition: 0 }, { topic: 'elsewhere', value: 'b', partition: 0, headers: [{ key: 'own', value: 'o' }] }], { topic: 't', headers: h1 });
  const two = send2(engine, [{ value: 'c', partition: 0 }], { topic: 't', headers: h2 });
  assert.is((await one).errors, null);
  assert.is((await two).errors, null);
  const batches = broker.calls.flatMap((c) => c.batches).filter((b) => b.topic === 't');
  assert.is(batches.length, 2, 'the header change started a batch');
  const headers = batches.flatMap((b) => [...b.batch.records()].map((r) => r.headers.map((h) => `${h.key}=${h.value}`).join(',')));
  assert.equal(headers, ['request-id=r1', 'request-id=r1,own=o', 'request-id=r1,svc=s']);
  assert.equal(broker.logs.get('t-0')!.map((w) => w.value), ['a', 'b', 'c']);
});

s('a non-retriable error fails the batch\'s records with a typed BrokerError', async () => {
  const { broker, engine } = setup();
  broker.faults.set('t-0', [errorCodes.TOPIC_AUTHORIZATION_FAILED]);
  const report = await send(engine, values(3));
  assert.ok(report.errors!.every((e) => (e as { errorName?: string }).errorName === 'TOPIC_AUTHORIZATION_FAILED'));
  const later = await send(engine, values(2));
  assert.is(later.errors, null, 'the next batch goes through (under a new epoch)');
});

s('records still failing after the delivery timeout get DeliveryTimeoutError with the cause', async () => {
  const { broker, engine } = setup({ deliveryTimeoutMs: 150, requestTimeoutMs: 100 });
  broker.faults.set('t-0', Array.from({ length: 1000 }, () => errorCodes.NOT_ENOUGH_REPLICAS));
  const started = Date.now();
  const report = await send(engine, values(3));
  const err = report.errors![0]!;
  assert.instance(err, DeliveryTimeoutError);
  assert.match(String((err as Error & { cause?: Error }).cause?.message), 'NOT_ENOUGH_REPLICAS');
  assert.ok(Date.now() - started >= 140);
});

s('acks=0: no idempotence, no answers awaited', async () => {
  const { broker, engine } = setup({ acks: 0 });
  const report = await send(engine, values(3));
  assert.is(report.errors, null);
  assert.equal(Array.from(report.offsets), [-1, -1, -1]);
  assert.is(broker.calls[0]!.acks, 0);
  assert.is(broker.calls[0]!.batches[0]!.batch.producerId, -1);
});

s('records for a topic without metadata yet wait for it; an unknown topic fails them', async () => {
  const { engine } = setup({}, { t: 1 });
  const report = await send(engine, [{ topic: 't', value: 'a' }, { topic: 'nope', value: 'b' }]);
  assert.is(report.errors![0], undefined);
  assert.instance(report.errors![1], InvalidArgumentError);
});

s('invalid options are listed together', () => {
  try {
    new ProducerEngine({ cluster: fakeCluster(new FakeBroker(), {}), acks: 1, idempotent: true, maxInFlight: 0, lingerMs: -1 });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InvalidArgumentError);
    assert.is((err as InvalidArgumentError).problems.length, 3);
  }
});

s('close() flushes what was accepted, then refuses new records', async () => {
  const { broker, engine } = setup({ lingerMs: 60_000 });
  const done = send(engine, values(5));
  await engine.close();
  assert.is((await done).errors, null);
  assert.is(broker.logs.get('t-0')!.length, 5);
  assert.throws(() => engine.send(values(1)), (e: unknown) => e instanceof ClosedError);
});

s('a record larger than a request fails at once; destroy() fails what is still queued', async () => {
  const { broker, engine } = setup({ maxMessageBytes: 5000, lingerMs: 60_000 });
  const big = await send(engine, [{ topic: 't', value: 'x'.repeat(6000) }]);
  assert.instance(big.errors![0], InvalidArgumentError);
  const pending = send(engine, values(3));
  await sleep(20);
  engine.destroy(new ClosedError('going away'));
  const report = await pending;
  assert.ok(report.errors!.every((e) => e instanceof ClosedError));
  assert.is(broker.calls.length, 0);
  assert.throws(() => engine.send(values(1)), (e: unknown) => e instanceof ClosedError);
});

s.run();
