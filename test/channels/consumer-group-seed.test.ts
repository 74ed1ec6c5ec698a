/**
 * The seed's semantics on the channel ConsumerGroup, against the in-process fake cluster (test/fake-cluster):
 * the seed README's consume loop (`msg.Commit()` alone) reads every partition to its end; a message marked and
 * never released is reported on `errors`; `pause` / `resume` hold partitions back without a rebalance and stop
 * fetching them; `stopAndWait` waits for a handler longer than `messageConsumeTimeout`. The same on the real
 * broker: integration/seed-examples.test.ts and integration/consumer-group.test.ts.
 */
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { eventually, suite } from '../kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../../src/channels/config.js';
import type { Chan } from '../../src/channels/chan.js';
import type { Message } from '../../src/channels/message.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { FakeGroups } from './fake-group.js';
import { createMockConsumer } from '../../src/testing/index.js';

let c: FakeCluster;
const groups = new FakeGroups(() => c);
const s = suite('ConsumerGroup: the seed\'s semantics on the fake cluster', { timeoutMs: 30_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 1, topics: { t: 3 } }); });
s.after.each(async () => {
  await groups.closeAll();
  await c.close();
});

const group = (config: Partial<ConsumerGroupConfig> = {}): ConsumerGroup => groups.make(config);

/** Appends `values` to a partition of `t` as one batch. */
const produce = (partition: number, values: string[]): Promise<void> => c.append('t', partition, values);

const values = (tag: string, p: number, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag}${p}-${i}`);

s('the seed README\'s loop, two workers, msg.Commit() alone: every message of every partition, all committed', async () => {
  for (const p of [0, 1, 2]) await produce(p, values('m', p, 20));
  const g = group();
  const got: string[] = [];
  // func consume(upstream) { for { msg := <-upstream; doStuff(msg); msg.Commit() } }
  const consume = async (upstream: Chan<Message>): Promise<void> => {
    for (;;) {
      const { value: msg, done } = await upstream.recv();
      if (done) return;
      got.push(msg.value!.toString());
      void msg.commit();
    }
  };
  void consume(g.channels.upstream);
  void consume(g.channels.upstream);
  await g.channels.consume.send(true);
  await eventually('60 consumed', () => got.length === 60, 10_000);
  await eventually('every partition committed to its end', () => [0, 1, 2].every((p) => c.committed('g', 't', p) === 20), 5_000);
  assert.is(new Set(got).size, 60);
  assert.is(g.channels.errors.length, 0);
});

s('a message marked and never released: reported on errors (ERR_KAFKA_MESSAGE_NOT_RELEASED, with the fix), its partition held', async () => {
  await produce(0, values('m', 0, 3));
  const g = group({ messageConsumeTimeout: 1_000 });
  g.start();
  const r = await g.channels.upstream.recv(AbortSignal.timeout(10_000));
  assert.ok(!r.done);
  r.value.mark();
  const e = await g.channels.errors.recv(AbortSignal.timeout(5_000));
  assert.ok(!e.done);
  assert.is((e.value as Error & { code?: string }).code, 'ERR_KAFKA_MESSAGE_NOT_RELEASED');
  assert.match(e.value.message, /t-0 offset 0 was marked but not released after 1000 ms/);
  assert.match(e.value.message, /release\(\)/);
  assert.is(g.channels.upstream.tryRecv(), undefined, 'the partition is held until release');
  r.value.release();
  const next = await g.channels.upstream.recv(AbortSignal.timeout(5_000));
  assert.ok(!next.done && next.value.offset === 1);
  next.value.release();
});

s('pause([1]) holds partition 1 back and stops fetching it, with no rebalance; resume([1]) delivers the rest in order', async () => {
  for (const p of [0, 1, 2]) await produce(p, values('a', p, 5));
  const g = group();
  const got: string[][] = [[], [], []];
  g.registerHandler((m) => { got[m.partition]!.push(m.value!.toString()); });
  g.start();
  await eventually('first round consumed', () => got.every((l) => l.length === 5), 10_000);
  const joins = c.log.count('JoinGroup');
  g.pause([1]);
  assert.equal(g.paused(), [1]);
  // A fetch in flight at pause() may still bring partition 1's data; the position is read after one has passed.
  for (const p of [0, 1, 2]) await produce(p, values('b', p, 5));
  await eventually('partitions 0 and 2 go on', () => got[0]!.length === 10 && got[2]!.length === 10, 10_000);
  const fetcher = (g as unknown as { consumer: { fetcher: { fetchPosition(tp: { topic: string; partition: number }): number } } }).consumer.fetcher;
  const pos1 = fetcher.fetchPosition({ topic: 't', partition: 1 });
  for (const p of [0, 1, 2]) await produce(p, values('c', p, 5));
  await eventually('partitions 0 and 2 go on', () => got[0]!.length === 15 && got[2]!.length === 15, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(got[1]!.length, 5, 'nothing of the paused partition delivered');
  assert.is(fetcher.fetchPosition({ topic: 't', partition: 1 }), pos1, 'the paused partition is not fetched');
  assert.is(c.log.count('JoinGroup'), joins, 'no rebalance');
  assert.is(g.state, 'Consuming');
  g.resume([1]);
  await eventually('the paused partition resumes', () => got[1]!.length === 15, 10_000);
  assert.equal(got[1], [...values('a', 1, 5), ...values('b', 1, 5), ...values('c', 1, 5)]);
  assert.throws(() => g.pause([-1]), /not a partition number/);
  assert.throws(() => g.resume('1' as never), /array/);
});

s('a partition paused before it is assigned starts paused', async () => {
  for (const p of [0, 1, 2]) await produce(p, values('a', p, 3));
  const g = group();
  g.pause([2]);
  const got: number[] = [];
  g.registerHandler((m) => { got.push(m.partition); });
  g.start();
  await eventually('0 and 1 consumed', () => got.filter((p) => p !== 2).length === 6, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(got.includes(2));
  g.resume([2]);
  await eventually('2 consumed after resume', () => got.filter((p) => p === 2).length === 3, 10_000);
});

s('stopAndWait waits for a handler that runs longer than messageConsumeTimeout, and ends Stopped', async () => {
  await produce(0, ['slow']);
  const g = group({ messageConsumeTimeout: 500, heartbeatIntervalMs: 100 });
  let started = false;
  let finished = false;
  g.registerHandler(async () => { started = true; await new Promise((r) => setTimeout(r, 1_500)); finished = true; });
  g.start();
  await eventually('handler started', () => started, 10_000);
  await g.stopAndWait();
  assert.ok(finished, 'stopAndWait resolved while the handler was still running');
  assert.is(g.state, 'Stopped');
});

s('the mock (kafka-channels/testing) pauses too: a paused partition\'s loop takes nothing until resumed', async () => {
  const m = createMockConsumer({ brokerAddrs: ['mock:9092'], topic: 't', groupName: 'g' }, { numPartitions: 2 });
  m.pause([0]);
  assert.equal(m.paused(), [0]);
  m.start();
  for (let i = 0; i < 3; i++) await m.queueBytes(Buffer.from(`v${i}`));
  const partitions: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await m.channels.upstream.recv(AbortSignal.timeout(2_000));
    assert.ok(!r.done);
    partitions.push(r.value.partition);
    r.value.release();
  }
  assert.equal(partitions, [1, 1, 1], 'only the unpaused partition delivered');
  m.resume([0]);
  assert.equal(m.paused(), []);
  await m.queueBytes(Buffer.from('v3'));
  await m.queueBytes(Buffer.from('v4'));
  const a = await m.channels.upstream.recv(AbortSignal.timeout(2_000));
  const b = await m.channels.upstream.recv(AbortSignal.timeout(2_000));
  assert.ok(!a.done && !b.done);
  assert.equal([a.value.partition, b.value.partition].sort(), [0, 1], 'both partitions deliver again');
  a.value.release();
  b.value.release();
  assert.throws(() => m.pause([1.5]), /not a partition number/);
  await m.close();
});

s.run();
