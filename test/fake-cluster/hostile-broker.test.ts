/**
 * Issue 17's hostile-broker cases replayed on the fake cluster through the public channel classes: a broker
 * answer that used to make a loop spin or a group wedge, now bounded and reported. Each case is a `mutate` or
 * `error` fault on an otherwise healthy cluster; rates are counted by the fake's request log.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { Producer } from '../../src/channels/producer.js';
import { ProducerError } from '../../src/errors.js';
import { FakeCluster } from './fake-cluster.js';

type Body = Record<string, any>;

let c: FakeCluster;
const closers: (() => Promise<unknown>)[] = [];
const s = suite('hostile broker answers (issue 17) on the fake cluster', { timeoutMs: 20_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 2, topics: { t: 2 } }); });
s.after.each(async () => {
  await Promise.allSettled(closers.splice(0).map((f) => f()));
  await c.close();
});

function producer(extra: Record<string, unknown> = {}): Producer {
  const p = new Producer({ brokerAddrs: c.bootstrap, topic: 't', minBrokersHealthy: 1, minRetryPeriod: 20, maxRetryPeriod: 200, deliveryTimeoutMs: 2_000, requestTimeoutMs: 1_000, ...extra });
  closers.push(() => p.close({ signal: AbortSignal.timeout(2_000) }));
  return p;
}

function group(): ConsumerGroup {
  const g = new ConsumerGroup({
    brokerAddrs: c.bootstrap, topic: 't', groupName: 'g', minRetryPeriod: 20, maxRetryPeriod: 500, heartbeatIntervalMs: 100,
    messageConsumeTimeout: 1_000, rebalanceTimeoutMs: 2_000, autoCommitIntervalMs: 100, requestTimeoutMs: 2_000,
  });
  closers.push(() => g.close({ signal: AbortSignal.timeout(3_000) }));
  return g;
}

/** Appends `values` to a partition of `t` as one batch. */
const produce = (partition: number, values: string[]): Promise<void> => c.append('t', partition, values);

const perSecond = (api: string, since: number): number => (c.log.count(api, { since }) * 1000) / Math.max(1, Date.now() - since);

// The Metadata rate alone with partition 0's leader missing from the broker list (the strict form, that the other
// partition flows and this one is reported, is the next test).
s('Metadata naming a leader missing from the broker list: a consumer sends a few Metadata requests a second', async () => {
  await produce(0, ['a']);
  await produce(1, ['b']);
  c.fault({ api: 'Metadata', action: 'mutate', mutate: (res) => {
    for (const t of res.topics as Body[]) for (const p of t.partitions as Body[]) if (p.partitionIndex === 0) p.leaderId = 99;
  } });
  const g = group();
  g.registerHandler(async () => {});
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 2_500));
  const rate = perSecond('Metadata', t0);
  assert.ok(rate <= 15, `Metadata ${rate.toFixed(1)}/s`);
});

// Strict form (before b1dadf5/d9c193b, over 15 s: state Consuming, 0 Fetch requests, neither partition consumed,
// 0 errors, Metadata 2.7/s): the healthy partition flows, the bad one is reported within a few seconds (the
// lookup's backoff and requestTimeoutMs, not a 30 s default), and neither Metadata nor ListOffsets storms.
s('a leader missing for partition 0: partition 1 is consumed and partition 0 is reported', async () => {
  await produce(0, ['a']);
  await produce(1, ['b']);
  c.fault({ api: 'Metadata', action: 'mutate', mutate: (res) => {
    for (const t of res.topics as Body[]) for (const p of t.partitions as Body[]) if (p.partitionIndex === 0) p.leaderId = 99;
  } });
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  const t0 = Date.now();
  g.start();
  await eventually('the partition with a known leader flows', () => seen.includes('b'), 10_000);
  const e = await g.channels.errors.recv(AbortSignal.timeout(10_000));
  const reportedMs = Date.now() - t0;
  assert.match(String(e.value), /t-0|partition 0|leader/);
  assert.ok(reportedMs <= 6_000, `partition 0 reported after ${reportedMs} ms`);
  await new Promise((r) => setTimeout(r, 1_000));
  for (const api of ['Metadata', 'ListOffsets']) {
    const rate = perSecond(api, t0);
    const peak = c.log.peakRate(api);
    assert.ok(rate <= 15 && peak <= 30, `${api}: ${rate.toFixed(1)}/s on average, peak ${peak}/s`);
  }
  assert.not.ok(seen.includes('a'), 'nothing from the leaderless partition');
});

s('InitProducerId answering no error with producer id -1: a few requests a second, the record reported', async () => {
  c.fault({ api: 'InitProducerId', action: 'mutate', mutate: (res) => { res.producerId = -1n; } });
  const p = producer();
  const t0 = Date.now();
  await p.send({ value: 'x' });
  const r = await p.channels.errors.recv(AbortSignal.timeout(8_000));
  assert.ok(r.value instanceof ProducerError, String(r.value));
  const rate = perSecond('InitProducerId', t0);
  assert.ok(rate <= 10, `InitProducerId ${rate.toFixed(1)}/s`);
  assert.is(c.endOffset('t', 0) + c.endOffset('t', 1), 0);
});

s('one JoinGroup answer with generation -1: the member rejoins (backoff) and consumes', async () => {
  await produce(0, ['a']);
  c.fault({ api: 'JoinGroup', when: (req) => req.body.memberId !== '', times: 1, action: 'mutate', mutate: (res) => { res.generationId = -1; } });
  // A broker that goes along with it (a real one would say ILLEGAL_GENERATION, which was always handled).
  c.fault({ api: 'SyncGroup', when: (req) => req.body.generationId === -1, action: 'mutate', mutate: (res) => { res.errorCode = 0; res.assignment = Buffer.alloc(0); } });
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  g.start();
  await eventually('consumed after the bad join', () => seen.includes('a'), 10_000);
  assert.is(g.state, 'Consuming');
  assert.ok(c.log.count('JoinGroup') >= 3, 'joined again');
});

s('one unreadable SyncGroup assignment: the member rejoins and consumes', async () => {
  await produce(1, ['b']);
  c.fault({ api: 'SyncGroup', times: 1, action: 'mutate', mutate: (res) => { res.assignment = Buffer.from([0, 1, 0xff, 0xff, 0xff]); } });
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  g.start();
  await eventually('consumed after the bad sync', () => seen.includes('b'), 10_000);
  assert.ok(c.log.count('SyncGroup') >= 2, 'synced again');
});

s('a fetched batch whose length runs past the bytes sent: no fetch storm, a DecodeError for that partition on errors, the other partition flows', async () => {
  await produce(0, ['p0']);
  c.fault({ api: 'Fetch', action: 'mutate', mutate: (res) => {
    for (const t of res.responses as Body[]) for (const p of t.partitions as Body[]) {
      if (p.partitionIndex !== 0 || !p.records?.length) continue;
      const bad = Buffer.from(p.records as Buffer);
      bad.writeInt32BE(bad.readInt32BE(8) + 1_000, 8);
      p.records = bad;
    }
  } });
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  const t0 = Date.now();
  await produce(1, ['p1']);
  await eventually('the healthy partition flows', () => seen.includes('p1'), 10_000);
  await new Promise((r) => setTimeout(r, 2_000));
  const leader0 = c.leaderOf('t', 0);
  const fetches = (c.log.count('Fetch', { since: t0, broker: leader0 }) * 1000) / (Date.now() - t0);
  assert.ok(fetches <= 30, `Fetch to the broker of the bad partition: ${fetches.toFixed(1)}/s`);
  assert.not.ok(seen.includes('p0'), 'the corrupt batch is not delivered');
  const errors: Error[] = [];
  for (let r; (r = g.channels.errors.tryRecv()) !== undefined && !r.done;) errors.push(r.value);
  assert.ok(errors.some((e) => (e as { code?: string }).code === 'ERR_KAFKA_DECODE' && /t-0/.test(e.message)), `reported: ${errors.map(String).join('; ')}`);
});

s.run();
